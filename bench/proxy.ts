// npm run bench:proxy [-- --json] [-- --endpoints 4 --runs 5 --mb 64 --rtts 2000 --conns 1000]
// The agent's service proxy against direct connections on loopback, to a Service with several
// endpoints (each its own sink, echo and greeter server): bulk throughput (MB/s over one
// connection), request latency (64-byte ping-pong, one connection per endpoint), connection set-up
// rate (connect, read one byte, close; sequential and 16 at a time). Direct connections take the
// endpoints in turn, as the proxy's round robin does. Each measure is repeated `runs` times, direct
// and proxy alternating which goes first; rates are the median of the runs (min–max beside it),
// latency p50 is the median of the runs' p50s, and p99 is taken over every sample of every run —
// only when there are at least 1,000 (else the max and n are printed). Prints a table and, last,
// one JSON line. A benchmark, not a test. Both sides run in this one process (a shared 2-core box).
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { encode } from '../protocol/codec.js';
import { ServiceProxy } from '../edge-agent/proxy/proxy.js';

const args = process.argv.slice(2);
const flag = (name: string, dflt: number) => (args.includes(`--${name}`) ? Number(args[args.indexOf(`--${name}`) + 1]) : dflt);
const ENDPOINTS = flag('endpoints', 4);
const RUNS = flag('runs', 5);
const MB = flag('mb', 64);
const RTTS = flag('rtts', 2000);
const CONNS = flag('conns', 1000);
/** Fewer samples than this make a p99 a guess: report the max and n instead. */
const MIN_P99_SAMPLES = 1000;
const clusterIP = '127.79.0.1';

/** A server on an ephemeral port of `host`. */
async function serve(handler: (s: net.Socket) => void, host = '127.0.0.1'): Promise<number> {
  const srv = net.createServer(handler);
  await new Promise<void>((r) => srv.listen(0, host, () => r()));
  srv.unref();
  return (srv.address() as net.AddressInfo).port;
}

/** A port free on `host` now (the proxy binds it right after). */
async function freePort(host: string): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, host, () => r()));
  const { port } = srv.address() as net.AddressInfo;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

function open(host: string, port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host, port }, () => resolve(s));
    s.setNoDelay(true);
    s.once('error', reject);
  });
}

/** Where a connection goes: the proxy's address, or the next endpoint in turn. */
type Target = () => { host: string; port: number };

/** Sends MB mebibytes over one connection; the sink answers one byte when it has them all. MB/s. */
async function throughput(to: Target): Promise<number> {
  const { host, port } = to();
  const s = await open(host, port);
  const chunk = Buffer.alloc(64 * 1024, 7);
  const total = MB * 1024 * 1024;
  const t0 = performance.now();
  const done = new Promise<void>((r) => s.once('data', () => r()));
  for (let sent = 0; sent < total; sent += chunk.length) if (!s.write(chunk)) await new Promise((r) => s.once('drain', r));
  await done;
  const secs = (performance.now() - t0) / 1000;
  s.destroy();
  return MB / secs;
}

/** 64-byte ping-pong round trips, RTTS in all, over one connection per endpoint in turn; latencies in µs. */
async function latency(to: Target): Promise<number[]> {
  const socks = await Promise.all(Array.from({ length: ENDPOINTS }, () => { const t = to(); return open(t.host, t.port); }));
  const msg = Buffer.alloc(64, 1);
  const out: number[] = [];
  for (let i = 0; i < RTTS; i++) {
    const s = socks[i % socks.length];
    const t0 = performance.now();
    await new Promise<void>((r) => {
      let got = 0;
      const on = (d: Buffer) => {
        got += d.length;
        if (got >= 64) {
          s.off('data', on);
          r();
        }
      };
      s.on('data', on);
      s.write(msg);
    });
    out.push((performance.now() - t0) * 1000);
  }
  for (const s of socks) s.destroy();
  return out;
}

/** Connections per second: connect, read the server's one byte, close; `parallel` at a time. */
async function setupRate(to: Target, parallel: number): Promise<number> {
  let left = CONNS;
  const one = () =>
    new Promise<void>((resolve, reject) => {
      const { host, port } = to();
      const s = net.connect({ host, port });
      s.once('data', () => {
        s.destroy();
        resolve();
      });
      s.once('error', reject);
    });
  const t0 = performance.now();
  await Promise.all(Array.from({ length: parallel }, async () => {
    while (left-- > 0) await one();
  }));
  return CONNS / ((performance.now() - t0) / 1000);
}

/** Nearest-rank percentile. */
function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}

/** Starts `ENDPOINTS` backends (sink, echo, greeter each) and a proxy for a Service over them. */
async function setUp(): Promise<{ proxy: ServiceProxy; direct: Record<'sink' | 'echo' | 'greeter', Target>; viaProxy: Record<'sink' | 'echo' | 'greeter', Target> }> {
  const total = MB * 1024 * 1024;
  const endpoints: Record<'sink' | 'echo' | 'greeter', number>[] = [];
  for (let e = 0; e < ENDPOINTS; e++) {
    const sink = await serve((s) => {
      let n = 0;
      s.on('data', (d) => {
        n += d.length;
        if (n >= total) s.write('k');
      });
      s.on('error', () => undefined);
    });
    const echo = await serve((s) => {
      s.setNoDelay(true);
      s.on('error', () => undefined);
      s.pipe(s);
    });
    const greeter = await serve((s) => {
      s.on('error', () => undefined);
      s.end('x');
    });
    endpoints.push({ sink, echo, greeter });
  }
  const quiet = { debug() {}, info() {}, warn() {}, error() {} };
  const proxy = new ServiceProxy({ balancerImpl: 'wasm' }, quiet);
  const ports = { sink: await freePort(clusterIP), echo: await freePort(clusterIP), greeter: await freePort(clusterIP) };
  await proxy.handle('bench', 'svc', encode({
    namespace: 'bench', name: 'svc', type: 'ClusterIP', sessionAffinity: 'None', clusterIP,
    ports: Object.entries(ports).map(([name, port]) => ({ name, port, protocol: 'TCP', targetPort: name })),
    endpoints: endpoints.map((ports, e) => ({ address: '127.0.0.1', node: 'n', pod: `p${e}`, ready: true, ports })),
  }));
  const turn = (name: 'sink' | 'echo' | 'greeter'): Target => {
    let k = 0;
    return () => ({ host: '127.0.0.1', port: endpoints[k++ % ENDPOINTS][name] });
  };
  const fixed = (port: number): Target => () => ({ host: clusterIP, port });
  return {
    proxy,
    direct: { sink: turn('sink'), echo: turn('echo'), greeter: turn('greeter') },
    viaProxy: { sink: fixed(ports.sink), echo: fixed(ports.echo), greeter: fixed(ports.greeter) },
  };
}

type Side = 'direct' | 'proxy';
interface Samples { throughput: number[]; p50: number[]; rtts: number[]; setup1: number[]; setup16: number[] }

async function main(): Promise<void> {
  const { proxy, direct, viaProxy } = await setUp();
  const samples: Record<Side, Samples> = {
    direct: { throughput: [], p50: [], rtts: [], setup1: [], setup16: [] },
    proxy: { throughput: [], p50: [], rtts: [], setup1: [], setup16: [] },
  };
  for (let r = 0; r < RUNS; r++) {
    const sides: Side[] = r % 2 ? ['proxy', 'direct'] : ['direct', 'proxy'];
    for (const side of sides) {
      const to = side === 'direct' ? direct : viaProxy;
      const s = samples[side];
      s.throughput.push(await throughput(to.sink));
      const lat = await latency(to.echo);
      s.p50.push(pct(lat, 50));
      s.rtts.push(...lat);
      s.setup1.push(await setupRate(to.greeter, 1));
      s.setup16.push(await setupRate(to.greeter, 16));
    }
    process.stderr.write(`  run ${r + 1}/${RUNS} done\n`);
  }
  await proxy.close();

  const med = (xs: number[]) => pct(xs, 50);
  const spread = (xs: number[]) => ({ median: med(xs), min: Math.min(...xs), max: Math.max(...xs) });
  const tail = (xs: number[]) => (xs.length >= MIN_P99_SAMPLES ? { p99: pct(xs, 99), n: xs.length } : { max: Math.max(...xs), n: xs.length });
  const rows = [
    { metric: 'throughput (1 connection)', unit: 'MB/s', direct: spread(samples.direct.throughput), proxy: spread(samples.proxy.throughput) },
    { metric: 'latency p50 (median of runs)', unit: 'µs', direct: spread(samples.direct.p50), proxy: spread(samples.proxy.p50) },
    { metric: 'conn setup (1 at a time)', unit: 'conn/s', direct: spread(samples.direct.setup1), proxy: spread(samples.proxy.setup1) },
    { metric: 'conn setup (16 at a time)', unit: 'conn/s', direct: spread(samples.direct.setup16), proxy: spread(samples.proxy.setup16) },
  ];
  const latencyTail = { direct: tail(samples.direct.rtts), proxy: tail(samples.proxy.rtts) };

  const fmt = (n: number) => (n >= 100 ? n.toFixed(0) : n.toFixed(1));
  const cell = (x: { median: number; min: number; max: number }) => `${fmt(x.median)} (${fmt(x.min)}–${fmt(x.max)})`;
  console.log(`service proxy vs direct on loopback: ${ENDPOINTS} endpoints, ${RUNS} runs (median, min–max), per run ${MB} MiB bulk, ${RTTS} round trips, ${CONNS} connections per set-up measure; node ${process.version}`);
  console.log('| measure | unit | direct | proxy | proxy/direct (medians) |');
  console.log('| --- | --- | ---: | ---: | ---: |');
  for (const r of rows) console.log(`| ${r.metric} | ${r.unit} | ${cell(r.direct)} | ${cell(r.proxy)} | ${(r.proxy.median / r.direct.median).toFixed(2)} |`);
  const tailCell = (t: { p99?: number; max?: number; n: number }) => (t.p99 !== undefined ? `${fmt(t.p99)} (n ${t.n})` : `max ${fmt(t.max!)} (n ${t.n}: too few for a p99)`);
  const tailRatio = latencyTail.direct.p99 !== undefined && latencyTail.proxy.p99 !== undefined ? (latencyTail.proxy.p99 / latencyTail.direct.p99).toFixed(2) : '';
  console.log(`| latency p99 (every sample of every run) | µs | ${tailCell(latencyTail.direct)} | ${tailCell(latencyTail.proxy)} | ${tailRatio} |`);
  console.log(JSON.stringify({ bench: 'proxy', endpoints: ENDPOINTS, runs: RUNS, mb: MB, rtts: RTTS, conns: CONNS, rows, latencyTail }));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

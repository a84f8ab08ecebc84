// npm run bench:proxy [-- --json] [-- --mb 256 --rtts 5000 --conns 2000]
// The agent's service proxy against a direct connection on loopback: bulk throughput (MB/s over one
// connection), request latency (64-byte ping-pong on one connection, p50/p99) and connection set-up
// rate (connect, read one byte, close; sequential and 16 at a time). Prints a table and, last, one JSON
// line. A benchmark, not a test. Both sides run in this one process (a shared 2-core box).
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { encode } from '../protocol/codec.js';
import { ServiceProxy } from '../edge-agent/proxy/proxy.js';

const args = process.argv.slice(2);
const flag = (name: string, dflt: number) => (args.includes(`--${name}`) ? Number(args[args.indexOf(`--${name}`) + 1]) : dflt);
const MB = flag('mb', 256);
const RTTS = flag('rtts', 5000);
const CONNS = flag('conns', 2000);
const clusterIP = '127.79.0.1';

/** A server on an ephemeral loopback port. */
async function serve(handler: (s: net.Socket) => void): Promise<number> {
  const srv = net.createServer(handler);
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  srv.unref();
  return (srv.address() as net.AddressInfo).port;
}

function open(host: string, port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host, port }, () => resolve(s));
    s.setNoDelay(true);
    s.once('error', reject);
  });
}

/** Sends MB mebibytes; the sink answers with one byte when it has them all. */
async function throughput(host: string, port: number): Promise<number> {
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

/** 64-byte ping-pong round trips on one connection; latencies in µs. */
async function latency(host: string, port: number): Promise<{ p50: number; p99: number }> {
  const s = await open(host, port);
  const msg = Buffer.alloc(64, 1);
  const out: number[] = [];
  for (let i = 0; i < RTTS; i++) {
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
  s.destroy();
  out.sort((a, b) => a - b);
  return { p50: out[Math.floor(out.length * 0.5)], p99: out[Math.floor(out.length * 0.99)] };
}

/** Connections per second: connect, read the server's one byte, close; `parallel` at a time. */
async function setupRate(host: string, port: number, parallel: number): Promise<number> {
  let left = CONNS;
  const one = () =>
    new Promise<void>((resolve, reject) => {
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

async function main(): Promise<void> {
  const sink = await serve((s) => {
    let n = 0;
    const total = MB * 1024 * 1024;
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
  const quiet = { debug() {}, info() {}, warn() {}, error() {} };
  const proxy = new ServiceProxy({ balancerImpl: 'wasm' }, quiet);
  const ports = { sink: 18101, echo: 18102, greeter: 18103 };
  await proxy.handle('bench', 'svc', encode({
    namespace: 'bench', name: 'svc', type: 'ClusterIP', sessionAffinity: 'None', clusterIP,
    ports: Object.entries(ports).map(([name, port]) => ({ name, port, protocol: 'TCP', targetPort: name })),
    endpoints: [{ address: '127.0.0.1', node: 'n', pod: 'p', ready: true, ports: { sink, echo, greeter } }],
  }));

  const rows: { metric: string; direct: number; proxy: number; unit: string; ratio: number }[] = [];
  const add = (metric: string, unit: string, direct: number, viaProxy: number) => rows.push({ metric, unit, direct, proxy: viaProxy, ratio: viaProxy / direct });
  add('throughput', 'MB/s', await throughput('127.0.0.1', sink), await throughput(clusterIP, ports.sink));
  const [ld, lp] = [await latency('127.0.0.1', echo), await latency(clusterIP, ports.echo)];
  add('latency p50', 'µs', ld.p50, lp.p50);
  add('latency p99', 'µs', ld.p99, lp.p99);
  add('conn setup (1 at a time)', 'conn/s', await setupRate('127.0.0.1', greeter, 1), await setupRate(clusterIP, ports.greeter, 1));
  add('conn setup (16 at a time)', 'conn/s', await setupRate('127.0.0.1', greeter, 16), await setupRate(clusterIP, ports.greeter, 16));
  await proxy.close();

  const fmt = (n: number) => (n >= 100 ? n.toFixed(0) : n.toFixed(1));
  console.log(`service proxy vs direct on loopback (${MB} MiB bulk, ${RTTS} round trips, ${CONNS} connections; node ${process.version})`);
  console.log(['metric'.padEnd(26), 'direct'.padStart(10), 'proxy'.padStart(10), 'unit'.padStart(7), 'proxy/direct'.padStart(13)].join(' '));
  for (const r of rows) console.log([r.metric.padEnd(26), fmt(r.direct).padStart(10), fmt(r.proxy).padStart(10), r.unit.padStart(7), r.ratio.toFixed(2).padStart(13)].join(' '));
  console.log(JSON.stringify({ bench: 'proxy', mb: MB, rtts: RTTS, conns: CONNS, rows }));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

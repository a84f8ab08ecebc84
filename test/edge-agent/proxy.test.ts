/**
 * The agent's service proxy against real sockets on loopback: balancing per algorithm, session affinity,
 * draining removed endpoints, skipping refusing ones, UDP flows, NodePort, deletion, bad payloads.
 * Service messages are fed directly (the master side is covered by test/integration/services.test.ts).
 */
import dgram from 'node:dgram';
import net from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { encode } from '../../protocol/codec.js';
import type { ServiceMessage } from '../../protocol/messages.js';
import { ServiceProxy } from '../../edge-agent/proxy/proxy.js';
import type { ProxyOptions } from '../../edge-agent/proxy/options.js';
import { connect, spread, tcpBackend, udpAsk, udpBackend, whoServes, type TcpBackend } from './proxy-helpers.js';
import { eventually } from '../helpers/wait.js';
import { freePort, freeUdpPort } from '../helpers/procs.js';

const impl = (process.env.SKIFF_TEST_ENGINE === 'reference' ? 'reference' : 'wasm') as 'wasm' | 'reference';
/** The service port: a free one, never a fixed port someone else may hold. */
let svcPort = 0;
beforeAll(async () => {
  svcPort = await freePort();
});
let ipSeq = 10;
/** A fresh clusterIP per test (127.78.x.y: outside the master's 127.77.0.0/16, so tests running at once never meet). */
const nextIP = () => `127.78.0.${ipSeq++}`;

function message(name: string, clusterIP: string, backends: { port: number }[], extra: Partial<ServiceMessage> = {}, port = svcPort): ServiceMessage {
  return {
    namespace: 'default',
    name,
    type: 'ClusterIP',
    sessionAffinity: 'None',
    clusterIP,
    ports: [{ port, protocol: 'TCP', targetPort: 'http' }],
    endpoints: backends.map((b, i) => ({ address: '127.0.0.1', node: 'n', pod: `p${i}`, ready: true, ports: { '': b.port } })),
    ...extra,
  };
}

describe('service proxy (TCP)', () => {
  const proxies: ServiceProxy[] = [];
  let backends: TcpBackend[];
  const quiet = { debug() {}, info() {}, warn() {}, error() {} };
  const newProxy = (o: ProxyOptions = {}) => {
    const p = new ServiceProxy({ balancerImpl: impl, ...o }, quiet);
    proxies.push(p);
    return p;
  };
  const send = (p: ServiceProxy, m: ServiceMessage) => p.handle(m.namespace, m.name, encode(m));

  beforeAll(async () => {
    backends = await Promise.all(['a', 'b', 'c'].map(tcpBackend));
  });
  afterEach(async () => {
    await Promise.all(proxies.splice(0).map((p) => p.close()));
  });
  afterAll(async () => Promise.all(backends.map((b) => b.close())));

  it('round robin: equal counts over the ready endpoints', async () => {
    const ip = nextIP();
    const p = newProxy();
    await send(p, message('web', ip, backends));
    expect(await spread(ip, svcPort, 30)).toEqual({ a: 10, b: 10, c: 10 });
    expect(p.stats()['default/web'].listening).toEqual([`TCP/${ip}:${svcPort}`]);
  });

  it('weights: an endpoint of weight 2 gets twice the connections, weight 0 none', async () => {
    const ip = nextIP();
    const p = newProxy();
    const m = message('weighted', ip, backends);
    m.endpoints[0].weight = 2;
    m.endpoints[2].weight = 0;
    await send(p, m);
    expect(await spread(ip, svcPort, 30)).toEqual({ a: 20, b: 10 });
  });

  it('ClientIP affinity (Maglev): each client address sticks to one endpoint, clients spread', async () => {
    const ip = nextIP();
    const p = newProxy();
    await send(p, message('sticky', ip, backends, { sessionAffinity: 'ClientIP' }));
    expect(p.stats()['default/sticky'].algorithm).toBe('maglev');
    const seen = new Set<string>();
    for (let c = 1; c <= 12; c++) {
      const from = `127.0.9.${c}`;
      const counts = await spread(ip, svcPort, 5, from);
      expect(Object.keys(counts), `client ${from}`).toHaveLength(1);
      seen.add(Object.keys(counts)[0]);
    }
    expect(seen.size).toBeGreaterThan(1);
  });

  it('least-connections (annotation): a new connection goes where fewest are open', async () => {
    const ip = nextIP();
    const p = newProxy();
    await send(p, message('lc', ip, backends.slice(0, 2), { annotations: { 'service.skiff.io/lb': 'least-connections' } }));
    const first = await connect(ip, svcPort); // a (tie → lowest index)
    const second = await connect(ip, svcPort); // b
    expect([first.backend, second.backend]).toEqual(['a', 'b']);
    second.socket.destroy();
    await eventually(() => p.stats()['default/lc'].ports[''].open['127.0.0.1:' + backends[1].port] === undefined, 'b released');
    // a has one open, b none: the next two go to b, then a tie again.
    const third = await connect(ip, svcPort);
    expect(third.backend).toBe('b');
    first.socket.destroy();
    third.socket.destroy();
  });

  it('a removed endpoint gets no new connections; an open one keeps flowing until closed', async () => {
    const ip = nextIP();
    const p = newProxy();
    await send(p, message('drain', ip, backends));
    const conns = await Promise.all([0, 1, 2].map(() => connect(ip, svcPort)));
    const toC = conns.find((c) => c.backend === 'c')!;
    expect(toC).toBeDefined();
    await send(p, message('drain', ip, backends.slice(0, 2)));
    const counts = await spread(ip, svcPort, 40);
    expect(counts).toEqual({ a: 20, b: 20 });
    expect(await toC.echo('still here')).toBe('still here');
    expect(p.stats()['default/drain'].ports[''].open[`127.0.0.1:${backends[2].port}`]).toBe(1);
    toC.socket.destroy();
    await eventually(() => p.stats()['default/drain'].ports[''].open[`127.0.0.1:${backends[2].port}`] === undefined, 'the drained connection released');
    for (const c of conns) c.socket.destroy();
  });

  it('drainTimeoutMs ends connections to a removed endpoint after the timeout', async () => {
    const ip = nextIP();
    const p = newProxy({ drainTimeoutMs: 150 });
    await send(p, message('drain2', ip, backends.slice(0, 1)));
    const c = await connect(ip, svcPort);
    const closed = new Promise<number>((r) => c.socket.once('close', () => r(Date.now())));
    const t0 = Date.now();
    await send(p, message('drain2', ip, []));
    expect((await closed) - t0).toBeGreaterThanOrEqual(100);
  });

  it('skips an endpoint that refuses, so clients do not see its death', async () => {
    const ip = nextIP();
    const dead = await tcpBackend('dead');
    await dead.close();
    const p = newProxy();
    await send(p, message('skip', ip, [backends[0], dead, backends[1]]));
    const counts = await spread(ip, svcPort, 30);
    expect(Object.keys(counts).sort()).toEqual(['a', 'b']);
    expect(counts.a + counts.b).toBe(30);
  });

  it('no endpoints: the connection is closed; deleting the service stops the listener', async () => {
    const ip = nextIP();
    const p = newProxy();
    await send(p, message('empty', ip, []));
    await expect(connect(ip, svcPort)).rejects.toThrow();
    await send(p, message('empty', ip, backends.slice(0, 1)));
    expect(await whoServes(ip, svcPort)).toBe('a');
    await p.handle('default', 'empty', Buffer.alloc(0));
    await expect(connect(ip, svcPort)).rejects.toThrow(/ECONNREFUSED/);
    expect(p.stats()['default/empty']).toBeUndefined();
  });

  it('NodePort: served on the node-port addresses too', async () => {
    const ip = nextIP();
    const p = newProxy({ nodePortAddresses: ['127.0.0.1'] });
    const m = message('np', ip, backends.slice(1, 2), { type: 'NodePort' });
    const nodePort = await freePort();
    m.ports[0].nodePort = nodePort;
    await send(p, m);
    expect(await whoServes('127.0.0.1', nodePort)).toBe('b');
    expect(await whoServes(ip, svcPort)).toBe('b');
  });

  it('a NodePort held by another program: one warning naming the port and the service, served once it is free', async () => {
    const warnings: string[] = [];
    const p = new ServiceProxy({ balancerImpl: impl, nodePortAddresses: ['127.0.0.1'], bindRetryMs: 50 }, { ...quiet, warn: (m) => warnings.push(m) });
    proxies.push(p);
    const squatter = net.createServer();
    await new Promise<void>((r) => squatter.listen(0, '127.0.0.1', () => r()));
    const nodePort = (squatter.address() as net.AddressInfo).port;
    const m = message('taken', nextIP(), backends.slice(0, 1), { type: 'NodePort' });
    m.ports[0].nodePort = nodePort;
    await send(p, m);
    expect(warnings).toEqual([`service default/taken: NodePort ${nodePort}/TCP on 127.0.0.1 is in use by another program on this node (free it, or give the service another spec.ports[].nodePort); retrying every 0.05 s`]);
    expect(await whoServes(m.clusterIP!, svcPort)).toBe('a'); // the clusterIP port is served meanwhile
    await new Promise<void>((r) => squatter.close(() => r()));
    expect(await eventually(() => whoServes('127.0.0.1', nodePort).catch(() => undefined), 'the NodePort served once free')).toBe('a');
    expect(warnings).toHaveLength(1); // the retries log at debug level
  });

  it('drops a malformed payload with a warning and keeps serving', async () => {
    const warnings: string[] = [];
    const p = new ServiceProxy({ balancerImpl: impl }, { ...quiet, warn: (m) => warnings.push(m) });
    proxies.push(p);
    const ip = nextIP();
    await send(p, message('ok', ip, backends.slice(0, 1)));
    await p.handle('default', 'ok', Buffer.from([0xc1, 0x00]));
    await p.handle('default', 'ok', encode({ namespace: 'default', name: 'ok', ports: [{ port: 99999, protocol: 'TCP' }], endpoints: [] }));
    await p.handle('default', 'other', encode(message('ok', ip, [])));
    expect(warnings).toHaveLength(3);
    expect(warnings[1]).toMatch(/ports\[0\]\.port/);
    expect(warnings[2]).toMatch(/must match the topic/);
    expect(await whoServes(ip, svcPort)).toBe('a');
  });

  it('rejects bad options naming the field', () => {
    expect(() => new ServiceProxy({ nodePortAddresses: ['nope'] }, quiet)).toThrow(/proxy\.nodePortAddresses/);
    expect(() => new ServiceProxy({ connectAttempts: 0 }, quiet)).toThrow(/proxy\.connectAttempts/);
  });
});

describe('service proxy (UDP)', () => {
  it('keeps a flow per client, balances new flows, and re-picks when an endpoint goes', async () => {
    const quiet = { debug() {}, info() {}, warn() {}, error() {} };
    const [u1, u2] = await Promise.all([udpBackend('u1'), udpBackend('u2')]);
    const p = new ServiceProxy({ balancerImpl: impl }, quiet);
    const ip = nextIP();
    const port = await freeUdpPort(); // never 5353: that is the mDNS port avahi holds
    const m = message('dns', ip, [u1, u2], {}, port);
    m.ports[0].protocol = 'UDP';
    try {
      await p.handle('default', 'dns', encode(m));
      const client = dgram.createSocket('udp4');
      const first = await udpAsk(ip, port, 'x', client);
      expect(await udpAsk(ip, port, 'y', client)).toBe(first.replace(':x', ':y')); // same flow, same backend
      const other = await udpAsk(ip, port, 'z'); // a new client address:port → the next endpoint
      expect(other.split(':')[0]).not.toBe(first.split(':')[0]);
      // Remove the client's endpoint: its flow ends and the next datagram goes to the one left.
      const keep = first.startsWith('u1') ? u2 : u1;
      await p.handle('default', 'dns', encode({ ...m, endpoints: m.endpoints.filter((e) => e.ports[''] === keep.port) }));
      expect(await udpAsk(ip, port, 'w', client)).toBe(`${keep === u1 ? 'u1' : 'u2'}:w`);
      client.close();
    } finally {
      await p.close();
      await Promise.all([u1.close(), u2.close()]);
    }
  });
});

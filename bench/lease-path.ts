/**
 * `node dist/bench/lease-path.js [--nodes 1000] [--rounds 20]`: the master's CPU per lease, side by side (issue 16,
 * idle CPU). One embedded broker (master/broker) per path, `nodes` node connections as in-memory streams (no
 * sockets, no client in the measure: the "agents" are prebuilt MQTT bytes pushed into the broker's streams), every
 * node leasing `rounds` times:
 * - **aedes path** (main before the fast path): every lease goes through authorizePublish (ACL, payload limit,
 *   proves-alive), the broker queue, the 'publish' event and the router to the tracker's onLease;
 * - **fast path** (broker/fast-lease.ts): picked off the connection and handled once.
 * The tracker here only records the node (the real one's heard/onLease add a Map write and a cache read to both).
 * Then the lease check: the scan of every node every second (main) against the deadline heap
 * (nodes/lease-deadlines.ts), at `nodes` Ready nodes with a 50 s grace.
 */
import { Duplex } from 'node:stream';
import type { Socket } from 'node:net';
import { parseArgs } from 'node:util';
import { generate } from 'mqtt-packet';
import { encode, readyStatus, silentLogger, topics, type Node } from '../protocol/index.js';
import { Broker } from '../master/broker/index.js';
import type { Credentials } from '../master/credentials.js';
import { createRouter, type RouteTargets } from '../master/router.js';
import { LeaseDeadlines } from '../master/nodes/lease-deadlines.js';

const { values: v } = parseArgs({ options: { nodes: { type: 'string', default: '1000' }, rounds: { type: 'string', default: '20' } } });
const nodes = Number(v.nodes);
const rounds = Number(v.rounds);

/** Every node name passes; nothing else (the bench is not about authentication). */
const credentials = { adminToken: 'x', verifyNode: () => true, verifyToken: () => undefined, joinTokens: { nameOfConnectKey: () => undefined } } as unknown as Credentials;

/** CPU ms (user + system) of this process while `fn` runs. */
async function cpuMs(fn: () => Promise<void>): Promise<number> {
  const a = process.cpuUsage();
  await fn();
  const d = process.cpuUsage(a);
  return (d.user + d.system) / 1000;
}

const tick = () => new Promise((r) => setImmediate(r));

/** µs of master CPU per lease on one path. */
async function measure(fast: boolean): Promise<number> {
  let counted = 0;
  const tracker = {
    onStatus: async () => {},
    onLease: async () => void counted++,
    heard: (_n: string, lease?: unknown) => (fast && lease ? (counted++, true) : false),
  };
  const router = createRouter({ tracker, log: silentLogger } as unknown as RouteTargets);
  const broker = await Broker.start({ port: -1, host: '127.0.0.1', credentials, log: silentLogger, onMessage: (m) => router.message(m), onLease: (n, l) => router.heard(n, l) });
  const conns: Duplex[] = [];
  let connacks = 0;
  for (let i = 0; i < nodes; i++) {
    const conn = new Duplex({
      read() {},
      write(chunk: Buffer, _enc, cb) {
        if (chunk[0] === 0x20) connacks++; // CONNACK
        cb();
      },
    });
    const raw = Object.assign(new Duplex({ read() {}, write: (_c, _e, cb) => cb() }), { remoteAddress: '127.0.0.1', setNoDelay: () => {} }) as unknown as Socket;
    broker.accept(conn, raw);
    conn.push(generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId: `skiff-agent-n${i}`, username: `n${i}`, password: Buffer.from('x'), keepalive: 60, clean: true }));
    conns.push(conn);
    // In batches: the broker admits at most 256 unauthenticated connections from one address (admission.ts).
    if (conns.length % 100 === 0) while (connacks < conns.length) await tick();
  }
  while (connacks < nodes) await tick();
  const packets = conns.map((_, i) => generate({ cmd: 'publish', topic: topics.nodeLease(`n${i}`), payload: encode({ generation: 3, intervalMs: 10_000 }), qos: 0, retain: false, dup: false, messageId: 0 } as never));
  // A warm-up round, then the measured ones.
  const round = async () => {
    const want = counted + nodes;
    for (let i = 0; i < nodes; i++) conns[i].push(packets[i]);
    while (counted < want) await tick();
  };
  await round();
  const ms = await cpuMs(async () => {
    for (let r = 0; r < rounds; r++) await round();
  });
  await broker.close();
  return (ms * 1000) / (nodes * rounds);
}

/** µs per second of lease checks at `nodes` Ready nodes: the scan (main) and the heap. */
function checks(): { scan: number; heap: number } {
  const ready: Node = { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n' }, status: { conditions: [{ type: 'Ready', status: 'True' }] } } as Node;
  const list = Array.from({ length: nodes }, (_, i) => ({ ...ready, metadata: { name: `n${i}` } }));
  const lastSeen = new Map(list.map((n, i) => [n.metadata.name, i]));
  const seconds = 200;
  let t = performance.now();
  let silent = 0;
  for (let s = 0; s < seconds; s++)
    for (const n of [...list]) {
      if (readyStatus(n) !== 'True') continue;
      if (s * 1000 - (lastSeen.get(n.metadata.name) ?? 0) > 50_000 + seconds * 1000) silent++;
    }
  const scan = ((performance.now() - t) * 1000) / seconds;
  const d = new LeaseDeadlines();
  for (const n of list) d.arm(n.metadata.name, lastSeen.get(n.metadata.name)! + 50_000);
  t = performance.now();
  for (let s = 0; s < seconds; s++) for (const name of d.due(s * 1000)) d.arm(name, s * 1000 + 50_000); // each heard since: re-armed
  const heap = ((performance.now() - t) * 1000) / seconds;
  if (silent) throw new Error('the scan found silent nodes: the setup is wrong');
  return { scan, heap };
}

const before = await measure(false);
const after = await measure(true);
const c = checks();
const pct = (us: number, perSecond: number) => `${((us * perSecond) / 10_000).toFixed(2)} % of a core`;
process.stdout.write(
  [
    `${nodes} node connections, ${rounds} leases each (in memory; CPU of the whole process)`,
    `per lease, aedes path (main):  ${before.toFixed(1)} µs   → at 500 leases/s (1,000 agents every 2 s): ${pct(before, 500)}`,
    `per lease, fast path:          ${after.toFixed(1)} µs   → at 100 leases/s (1,000 agents every 10 s): ${pct(after, 100)}`,
    `                               ${(before / after).toFixed(1)}× cheaper a lease; ${((before * 500) / (after * 100)).toFixed(0)}× less lease CPU with the budget`,
    `lease check each second at ${nodes} Ready nodes: scan ${c.scan.toFixed(0)} µs, deadline heap ${c.heap.toFixed(1)} µs`,
    '',
  ].join('\n'),
);

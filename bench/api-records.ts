/**
 * `list pods` in the records encoding during a simulated rollout, as the scale bench's probe asks it (issue 16):
 * 10,000 pods on 1,000 nodes created at 1,000 a second, each going through the versions the master stores (created,
 * bound, Running as the agent reports it, timestamps to the millisecond), and a list every second — the master's
 * encoding path (master/api/encoding.ts: `prepareAnswer`, `encodeAnswer`) and the CLI's decode (cli/client.ts
 * `resultOf`). Prints, per build, the encode CPU of the lists during the rollout, the final list's bytes, its decode
 * time, and what the strings table holds.
 *
 *   node dist/bench/api-records.js [--pods 10000] [--nodes 1000] [--rate 1000] [--decodes 15] [--roots DIR,DIR]
 *
 * `--roots` runs the same in builds of other trees (each a directory with the built `dist` layout: `.../dist`), one
 * child process each (msgpackr's extensions are process-wide), and prints them side by side.
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values: opts } = parseArgs({
  options: {
    pods: { type: 'string', default: '10000' },
    nodes: { type: 'string', default: '1000' },
    rate: { type: 'string', default: '1000' },
    decodes: { type: 'string', default: '15' },
    roots: { type: 'string' },
    child: { type: 'string' },
  },
});

const here = dirname(fileURLToPath(import.meta.url)); // .../dist/bench

interface Figures {
  root: string;
  /** Encode CPU of each rollout list's new bytes (prepareAnswer + encodeAnswer), ms. */
  rolloutEncodeMs: number[];
  rolloutBytes: number[];
  finalBytes: number;
  /** The final list's bytes when every pod is encoded afresh by a new master (a restarted one, say). */
  decodeMs: number[];
  /** The final list answered again, all bytes made (the splice: one task), ms. */
  spliceMs: number[];
  tableStrings: number;
  tableTimestamps: number;
  tableNodeNames: number;
  /** Strings references in the final list's bytes vs strings written out. */
  perPodUs: number;
}

const iso = (ms: number) => new Date(ms).toISOString();

async function run(dist: string): Promise<Figures> {
  const { encodeAnswer, prepareAnswer, sharedObjects } = await import(join(dist, 'master', 'api', 'encoding.js'));
  const { resultOf } = await import(join(dist, 'cli', 'client.js'));
  const { decodeObject, decodeRecords } = await import(join(dist, 'protocol', 'index.js'));
  const pods = Number(opts.pods);
  const nodes = Number(opts.nodes);
  const rate = Number(opts.rate);
  // A budget that never makes prepareAnswer wait a loop turn: the bench times the CPU, not the turns.
  const budget = { turn: () => 1e9 };
  const hash = '6b8f9c7d4';
  const rsUid = randomUUID();
  let rv = 1000;
  const t0 = Date.parse('2026-12-02T13:00:00.000Z');
  const base = (i: number, at: number) => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: `scale-${hash}-${(i * 7919).toString(36).padStart(5, 'x').slice(-5)}`,
      generateName: `scale-${hash}-`,
      namespace: 'default',
      labels: { app: 'scale', 'pod-template-hash': hash },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: `scale-${hash}`, uid: rsUid, controller: true, blockOwnerDeletion: true }],
      uid: randomUUID(),
      creationTimestamp: iso(at),
      generation: 1,
      resourceVersion: String(rv++),
    },
    spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'main', command: ['sleep', 'infinity'] }], restartPolicy: 'Always' },
    status: { phase: 'Pending' },
  });
  const node = (i: number) => `sim-${String(i % nodes).padStart(4, '0')}`;
  const bound = (p: any, i: number, at: number) => ({
    ...p,
    metadata: { ...p.metadata, resourceVersion: String(rv++) },
    spec: { ...p.spec, nodeName: node(i) },
    status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'True', lastTransitionTime: iso(at) }] },
  });
  // The agent reports its pods in one message: one `now` per node and report.
  const running = (p: any, at: number) => {
    const now = iso(at);
    return {
      ...p,
      metadata: { ...p.metadata, resourceVersion: String(rv++) },
      status: {
        phase: 'Running',
        startTime: now,
        hostIP: '127.0.0.1',
        podIP: '127.0.0.1',
        conditions: [p.status.conditions[0], ...['Initialized', 'ContainersReady', 'Ready'].map((type) => ({ type, status: 'True', lastTransitionTime: now }))],
        containerStatuses: [{ name: 'main', ready: true, started: true, restartCount: 0, state: { running: { startedAt: now } } }],
      },
    };
  };
  const current: any[] = [];
  const list = async () => {
    const res = { id: 'l', ok: true, result: sharedObjects({ apiVersion: 'v1', kind: 'List', items: current.slice(), metadata: { resourceVersion: String(rv) } }) };
    const began = performance.now();
    const preparing = prepareAnswer(res, 'msgpack', 'records', budget);
    if (preparing) await preparing; // one turn: the budget never runs out
    const bytes: Buffer = encodeAnswer(res, 'msgpack', 'records');
    return { ms: performance.now() - began, bytes };
  };
  const rolloutEncodeMs: number[] = [];
  const rolloutBytes: number[] = [];
  const ticks = Math.ceil(pods / rate) + 2;
  for (let t = 0; t < ticks; t++) {
    const at = t0 + t * 1000;
    // Each second: this second's pods created, last second's bound, the second before's Running.
    for (let i = 0; i < current.length; i++) {
      const p = current[i];
      if (p.status.phase === 'Pending' && p.spec.nodeName) current[i] = running(p, at + 600 + (i % nodes));
    }
    for (let i = 0; i < current.length; i++) {
      const p = current[i];
      if (!p.spec.nodeName) current[i] = bound(p, i, at + 300 + (i % 97));
    }
    for (let k = 0; k < rate && current.length < pods; k++) current.push(base(current.length, at + k));
    const l = await list();
    rolloutEncodeMs.push(l.ms);
    rolloutBytes.push(l.bytes.length);
  }
  const final = await list();
  // The same list again, every pod's bytes made: the splice alone (one task of the master's loop).
  const spliceMs: number[] = [];
  for (let i = 0; i < 7; i++) {
    const res = { id: 'l', ok: true, result: sharedObjects({ apiVersion: 'v1', kind: 'List', items: current.slice(), metadata: { resourceVersion: String(rv) } }) };
    const began = performance.now();
    if (prepareAnswer(res, 'msgpack', 'records', budget)) throw new Error('bytes missing');
    encodeAnswer(res, 'msgpack', 'records');
    spliceMs.push(performance.now() - began);
  }
  const decodeMs: number[] = [];
  for (let i = 0; i < Number(opts.decodes); i++) {
    if (i % 5 === 0) (globalThis as { gc?: () => void }).gc?.();
    const began = performance.now();
    const res = decodeObject(final.bytes).value;
    const result = resultOf(res) as { items: unknown[] };
    decodeMs.push(performance.now() - began);
    if (result.items.length !== pods) throw new Error(`decoded ${result.items.length} pods`);
  }
  const env = decodeObject(final.bytes).value as { strings: string[] };
  void decodeRecords;
  const table = env.strings;
  // Encode CPU per pod version: every pod encoded once more (a new version each).
  for (let i = 0; i < current.length; i++) current[i] = { ...current[i], metadata: { ...current[i].metadata, resourceVersion: String(rv++) } };
  const again = await list();
  return {
    root: dist,
    rolloutEncodeMs,
    rolloutBytes,
    finalBytes: final.bytes.length,
    decodeMs,
    spliceMs,
    tableStrings: table.length,
    tableTimestamps: table.filter((s) => /^\d{4}-\d\d-\d\dT/.test(s)).length,
    tableNodeNames: table.filter((s) => /^sim-\d{4}$/.test(s)).length,
    perPodUs: (again.ms * 1000) / pods,
  };
}

const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

if (opts.child) {
  process.stdout.write(JSON.stringify(await run(opts.child)) + '\n');
} else {
  const roots = (opts.roots ?? resolve(here, '..')).split(',').map((r) => resolve(r));
  const self = fileURLToPath(import.meta.url);
  const args = ['--pods', opts.pods!, '--nodes', opts.nodes!, '--rate', opts.rate!, '--decodes', opts.decodes!];
  const all: Figures[] = roots.map((dist) => JSON.parse(execFileSync(process.execPath, ['--expose-gc', self, ...args, '--child', dist], { encoding: 'utf8', maxBuffer: 1 << 26 }).trim().split('\n').pop()!));
  const rows: [string, ...string[]][] = [
    ['rollout lists: encode CPU, total (max) ms', ...all.map((f) => `${sum(f.rolloutEncodeMs).toFixed(0)} (${Math.max(...f.rolloutEncodeMs).toFixed(1)})`)],
    ['rollout lists: bytes, mean MB', ...all.map((f) => (sum(f.rolloutBytes) / f.rolloutBytes.length / 1e6).toFixed(2))],
    ['final list: bytes', ...all.map((f) => `${(f.finalBytes / 1e6).toFixed(2)} MB`)],
    ['final list: client decode min / median / max ms', ...all.map((f) => `${Math.min(...f.decodeMs).toFixed(1)} / ${med(f.decodeMs).toFixed(1)} / ${Math.max(...f.decodeMs).toFixed(1)}`)],
    ['final list again, all bytes made: encodeAnswer median / max ms', ...all.map((f) => `${med(f.spliceMs).toFixed(1)} / ${Math.max(...f.spliceMs).toFixed(1)}`)],
    ['pod version encode µs (records)', ...all.map((f) => f.perPodUs.toFixed(1))],
    ['strings table: strings / timestamps / node names', ...all.map((f) => `${f.tableStrings} / ${f.tableTimestamps} / ${f.tableNodeNames}`)],
  ];
  const header = ['', ...all.map((f) => f.root)];
  const widths = header.map((_, i) => Math.max(...[header, ...rows].map((r) => (r[i] ?? '').length)));
  console.log(`${opts.pods} pods on ${opts.nodes} nodes at ${opts.rate}/s, a records list every second`);
  for (const r of [header, ...rows]) console.log(r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd());
}

/**
 * What the object layer and the informers cost the master's thread per write and per event in a rollout (issue 16),
 * without the store's own work: Objects (with the master's admission plugins) and Informers over a store kept in a
 * Map that does what every store does with a value — its JSON text on write, a parse of it for the entry returned and
 * one for each watch event — and nothing else (no SQLite, no deflate, no fsync). Each trial takes a wave of pods
 * through the writes a rollout makes of a pod: its create (generateName, owner, resources, as the ReplicaSet
 * controller), its bind (as the scheduler), its agent's Pending report and its Running report; the pods stay, so the
 * cache grows to trials × wave pods (10,000 by default) as in the rollout.
 *
 * Two figures per phase: **write** — process CPU of the phase's Objects calls per pod, less the time spent inside the
 * Map store (its stringify and parses: the store's, the same in every build), and **event** — CPU of delivering the phase's watch events to the
 * informers per event (the store's parse of each event's text done before the clock starts: it is the store's, and
 * the same everywhere). With `--baseline DIR` (the `dist/` of another build, e.g. a copy of main's) the same trials
 * run against that build too, alternating, side by side.
 * Run: `npx tsc -p tsconfig.json && node dist/bench/informer-cpu.js [--trials 50] [--wave 200] [--baseline DIR]`.
 */
import { parseArgs } from 'node:util';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';
import { replicaSetPod } from './rollout-pod.js';

type Any = any; // the two builds' classes are the same shape, but not the same types

interface Row {
  text: string;
  createRevision: number;
  modRevision: number;
}

interface Queued {
  key: string;
  type: 'put' | 'delete';
  text: string;
  revision: number;
  created: boolean;
}

/**
 * A store in a Map with the value handling of the real ones (master/store/sqlite.ts): JSON text in, a parse out per
 * entry returned and per event. Events wait in `queued` until the bench delivers them.
 */
class MapStore {
  readonly rows = new Map<string, Row>();
  rev = 0;
  queued: Queued[] = [];
  /** Time spent inside the store's own work (the texts and their parses), ms: taken off the writes' figure. */
  ownMs = 0;
  private onEvent: ((e: Any) => void) | undefined;
  private errors: { SkiffError: Any };

  constructor(errors: { SkiffError: Any }) {
    this.errors = errors;
  }

  private fail(code: string, msg: string, i?: number): never {
    throw new this.errors.SkiffError(code, msg, i === undefined ? undefined : [{ field: `ops[${i}]`, rule: msg }]);
  }

  async get(key: string): Promise<Any> {
    const t = performance.now();
    const r = this.rows.get(key);
    const e = r && { key, value: JSON.parse(r.text), createRevision: r.createRevision, modRevision: r.modRevision };
    this.ownMs += performance.now() - t;
    return e;
  }

  async list(prefix: string): Promise<Any> {
    const entries = [...this.rows].filter(([k]) => k.startsWith(prefix)).sort(([a], [b]) => (a < b ? -1 : 1)).map(([key, r]) => ({ key, value: JSON.parse(r.text), createRevision: r.createRevision, modRevision: r.modRevision }));
    return { entries, revision: this.rev };
  }

  private put(key: string, value: unknown, create: boolean, expected: number | undefined, revision: number, i?: number): Any {
    const t = performance.now();
    try {
      return this.putText(key, JSON.stringify(value), create, expected, revision, i);
    } finally {
      this.ownMs += performance.now() - t;
    }
  }

  private putText(key: string, text: string, create: boolean, expected: number | undefined, revision: number, i?: number): Any {
    const cur = this.rows.get(key);
    if (create && cur) this.fail('SKIFF_ERR_ALREADY_EXISTS', `store: ${key}: exists`, i);
    if (!create && !cur) this.fail('SKIFF_ERR_NOT_FOUND', `store: ${key}: not found`, i);
    if (!create && expected !== undefined && cur!.modRevision !== expected) this.fail('SKIFF_ERR_CONFLICT', `store: ${key}: modified`, i);
    const row = { text, createRevision: cur?.createRevision ?? revision, modRevision: revision };
    this.rows.set(key, row);
    this.queued.push({ key, type: 'put', text, revision, created: !cur });
    return { key, value: JSON.parse(text), createRevision: row.createRevision, modRevision: revision };
  }

  async create(key: string, value: unknown): Promise<Any> {
    return this.put(key, value, true, undefined, ++this.rev);
  }

  async update(key: string, value: unknown, expected?: number): Promise<Any> {
    return this.put(key, value, false, expected, ++this.rev);
  }

  async delete(key: string): Promise<Any> {
    const cur = this.rows.get(key);
    if (!cur) this.fail('SKIFF_ERR_NOT_FOUND', `store: ${key}: not found`);
    this.rows.delete(key);
    const revision = ++this.rev;
    this.queued.push({ key, type: 'delete', text: cur.text, revision, created: false });
    return { key, value: JSON.parse(cur.text), createRevision: cur.createRevision, modRevision: cur.modRevision };
  }

  async txn(ops: readonly Any[]): Promise<Any> {
    // Checked before anything changes, as the real stores do.
    ops.forEach((o, i) => {
      const cur = this.rows.get(o.key);
      if (o.op === 'create' && cur) this.fail('SKIFF_ERR_ALREADY_EXISTS', `store: ${o.key}: exists`, i);
      if (o.op !== 'create' && !cur) this.fail('SKIFF_ERR_NOT_FOUND', `store: ${o.key}: not found`, i);
      if (o.op !== 'create' && o.expectedModRevision !== undefined && cur!.modRevision !== o.expectedModRevision) this.fail('SKIFF_ERR_CONFLICT', `store: ${o.key}: modified`, i);
    });
    const revision = ++this.rev;
    const entries = ops.map((o, i) => (o.op === 'delete' ? this.delete(o.key) : this.put(o.key, o.value, o.op === 'create', o.expectedModRevision, revision, i)));
    return { revision, entries: await Promise.all(entries) };
  }

  watch(_prefix: string, _from: number | undefined, onEvent: (e: Any) => void): Any {
    this.onEvent = onEvent;
    return { close: () => (this.onEvent = undefined) };
  }

  async revision(): Promise<number> {
    return this.rev;
  }

  revealedRevision(): number {
    return this.rev;
  }

  async compact(): Promise<void> {}

  async close(): Promise<void> {}

  /** The queued changes as the watch hub hands them out: each value parsed for the watcher (not timed). */
  events(): Any[] {
    const out = this.queued.map((q) =>
      q.type === 'delete'
        ? { type: 'delete', key: q.key, value: JSON.parse(q.text), revision: q.revision }
        : { type: 'put', key: q.key, value: JSON.parse(q.text), revision: q.revision, ...(q.created ? { created: true } : {}) },
    );
    this.queued = [];
    return out;
  }

  deliver(events: Any[]): void {
    for (const e of events) this.onEvent?.(e);
  }
}

/** One build's world. */
interface World {
  label: string;
  objects: Any;
  informers: Any;
  store: MapStore;
  owner: { name: string; uid: string };
}

const phases = ['create', 'bind', 'pending', 'running'] as const;
type Phase = (typeof phases)[number];

async function open(label: string, root: string): Promise<World> {
  const mod = (p: string) => import(pathToFileURL(join(root, p)).href);
  const [{ Objects }, { addAdmission }, { Informers }, { SkiffError }] = await Promise.all([mod('master/objects.js'), mod('master/admission/plugins.js'), mod('master/informer.js'), mod('protocol/index.js')]);
  const silent = { debug() {}, info() {}, warn() {}, error() {} };
  const store = new MapStore({ SkiffError });
  const informers = new Informers(store, silent);
  const objects = new Objects(store, { cache: informers });
  addAdmission(objects);
  await objects.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' }, status: { phase: 'Active' } });
  await informers.start();
  const rs = await objects.create({
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name: 'web-5d8f9', namespace: 'default' },
    spec: { replicas: 1, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'main', image: 'nginx' }] } } },
  });
  store.deliver(store.events());
  return { label, objects, informers, store, owner: { name: rs.metadata.name, uid: rs.metadata.uid } };
}

/** A pod as the ReplicaSet controller asks for it. */
function podOf(w: World): object {
  return replicaSetPod(w.owner, {
    containers: [{ name: 'main', image: 'registry.local/web:1.4.2', ports: [{ containerPort: 8080, protocol: 'TCP' }], env: [{ name: 'MODE', value: 'edge' }], resources: { requests: { cpu: '10m', memory: '16Mi' }, limits: { memory: '64Mi' } } }],
    tolerations: [{ key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 }],
  });
}

/** The writes of one phase for the wave's pods (as the controllers, the scheduler and the agents' reports make them). */
async function writes(w: World, what: Phase, names: string[], first: number, n: number): Promise<void> {
  const now = new Date().toISOString();
  const mutate = (fn: (cur: Any, i: number) => Any) => Promise.all(names.slice(first).map((name, i) => w.objects.mutate('Pod', 'default', name, (cur: Any) => fn(cur, i))));
  if (what === 'create') {
    const made = await Promise.all(Array.from({ length: n }, () => w.objects.create(podOf(w))));
    names.push(...made.map((p: Any) => p.metadata.name));
  } else if (what === 'bind') {
    await mutate((cur, i) => {
      if (cur.spec.nodeName) return undefined;
      cur.spec.nodeName = `node-${i % 1000}`;
      cur.status = { ...(cur.status ?? {}), phase: cur.status?.phase ?? 'Pending', conditions: [{ type: 'PodScheduled', status: 'True', lastTransitionTime: now }] };
      return cur;
    });
  } else if (what === 'pending') {
    await mutate((cur) => {
      cur.status = { ...cur.status, hostIP: '10.0.0.1', containerStatuses: [{ name: 'main', ready: false, started: false, restartCount: 0, image: 'registry.local/web:1.4.2', state: { waiting: { reason: 'ContainerCreating' } } }] };
      return cur;
    });
  } else {
    await mutate((cur) => {
      cur.status = {
        ...cur.status,
        phase: 'Running',
        podIP: '10.0.0.1',
        startTime: now,
        conditions: [...(cur.status?.conditions ?? []), ...['Initialized', 'ContainersReady', 'Ready'].map((type) => ({ type, status: 'True', lastTransitionTime: now }))],
        containerStatuses: [{ name: 'main', ready: true, started: true, restartCount: 0, image: 'registry.local/web:1.4.2', state: { running: { startedAt: now } } }],
      };
      return cur;
    });
  }
}

/** Runs one phase: CPU µs per pod of its writes (the store's own work taken off), per event of their delivery to the informers. */
async function phase(w: World, what: Phase, names: string[], n: number): Promise<{ write: number; event: number }> {
  const first = what === 'create' ? names.length : names.length - n;
  let t = process.cpuUsage();
  w.store.ownMs = 0;
  await writes(w, what, names, first, n);
  let d = process.cpuUsage(t);
  const write = (d.user + d.system - w.store.ownMs * 1000) / n;
  const events = w.store.events();
  t = process.cpuUsage();
  w.store.deliver(events);
  d = process.cpuUsage(t);
  return { write, event: (d.user + d.system) / Math.max(1, events.length) };
}

function pct(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((q / 100) * s.length) - 1)]!;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { trials: { type: 'string', default: '50' }, wave: { type: 'string', default: '200' }, baseline: { type: 'string' }, warmup: { type: 'string', default: '5' } } });
  const trials = Number(values.trials);
  const wave = Number(values.wave);
  const warmup = Number(values.warmup);
  const here = join(dirname(fileURLToPath(import.meta.url)), '..');
  const worlds = values.baseline ? [await open('baseline', values.baseline), await open('this build', here)] : [await open('this build', here)];
  const cpu = new Map<string, number[]>();
  const names = new Map(worlds.map((w) => [w, [] as string[]]));
  for (let t = 0; t < warmup + trials; t++) {
    // Alternate which build goes first, so neither always runs on a warmer (or colder) heap.
    for (const w of t % 2 ? [...worlds].reverse() : worlds) {
      for (const p of phases) {
        const r = await phase(w, p, names.get(w)!, wave);
        if (t < warmup) continue;
        for (const [what, us] of [['write', r.write], ['event', r.event]] as const) {
          const k = `${w.label}\u0000${p}\u0000${what}`;
          cpu.set(k, [...(cpu.get(k) ?? []), us]);
        }
      }
    }
  }
  const pods = (warmup + trials) * wave;
  console.log(`CPU µs per pod write / per event, p50 (p99) of ${trials} trials of ${wave} pods (after ${warmup} warm-up trials; ${pods} pods in the cache at the end); ${worlds.map((w) => w.label).join(' vs ')}`);
  console.log(`${'phase'.padEnd(8)} ${worlds.map((w) => `${w.label}: write    event`.padEnd(34)).join('')}${worlds.length > 1 ? ' ratio write / event' : ''}`);
  const total = (label: string, what: string, i: number) => phases.reduce((s, q) => s + cpu.get(`${label}\u0000${q}\u0000${what}`)![i]!, 0);
  for (const p of [...phases, 'total'] as const) {
    const rows = worlds.map((w) => {
      const of = (what: string) => (p === 'total' ? Array.from({ length: trials }, (_, i) => total(w.label, what, i)) : cpu.get(`${w.label}\u0000${p}\u0000${what}`)!);
      return { write: of('write'), event: of('event') };
    });
    const cell = (xs: number[]) => `${pct(xs, 50).toFixed(1).padStart(6)} (${pct(xs, 99).toFixed(0).padStart(3)})`;
    const ratio = rows.length > 1 ? `  ${(pct(rows[1]!.write, 50) / pct(rows[0]!.write, 50)).toFixed(2)} / ${(pct(rows[1]!.event, 50) / pct(rows[0]!.event, 50)).toFixed(2)}` : '';
    console.log(`${p.padEnd(8)} ${rows.map((r) => `${''.padEnd(12)}${cell(r.write)} ${cell(r.event)}`.padEnd(34)).join('')}${ratio}`);
  }
  for (const w of worlds) w.informers.stop();
}

await main();

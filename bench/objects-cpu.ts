/**
 * What a pod's create and mutates cost the master's thread (issue 16), in memory: a `:memory:` SQLite store, the
 * informers' cache, Objects with the master's admission plugins, the event recorder — the real code, no broker, no
 * agents. Each trial creates a wave of pods as the ReplicaSet controller does (generateName, owner, resources), binds
 * them as the scheduler does, reports them Running as their agents do, and records the events a rollout records for
 * them; the process CPU of each phase (the informer's catching up included) is divided by the wave's pods.
 * With `--baseline DIR` (the `dist/` of another checkout, e.g. main), the same trials run against that build too,
 * alternating, and the two are printed side by side.
 * Run: `npm run build:ts && node dist/bench/objects-cpu.js [--trials 60] [--wave 100] [--baseline /tmp/main/dist]`.
 */
import { parseArgs } from 'node:util';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';
import { replicaSetPod } from './rollout-pod.js';

type Any = any; // the two builds' classes are the same shape, but not the same types

/** One build's world: store, cache, objects, recorder. */
interface World {
  label: string;
  objects: Any;
  informers: Any;
  events: Any;
  store: Any;
  /** The ReplicaSet the pods belong to. */
  owner: { name: string; uid: string };
  published: number;
}

const phases = ['create', 'bind', 'status', 'events'] as const;
type Phase = (typeof phases)[number];

async function open(label: string, root: string, cached: boolean): Promise<World> {
  const mod = (p: string) => import(pathToFileURL(join(root, p)).href);
  const [{ openSqliteStore }, { Objects }, { addAdmission }, { Informers }, { EventRecorder }] = await Promise.all([
    mod('master/store/sqlite.js'),
    mod('master/objects.js'),
    mod('master/admission/plugins.js'),
    mod('master/informer.js'),
    mod('master/events.js'),
  ]);
  const silent = { debug() {}, info() {}, warn() {}, error() {} };
  const store = await openSqliteStore(':memory:');
  const informers = new Informers(store, silent);
  const objects = new Objects(store, cached ? { cache: informers } : {});
  addAdmission(objects);
  await objects.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' }, status: { phase: 'Active' } });
  await informers.start();
  const rs = await objects.create({
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name: 'web-5d8f9', namespace: 'default' },
    spec: { replicas: 1, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'main', image: 'nginx' }] } } },
  });
  const events = new EventRecorder(silent, { onRecorded: () => undefined });
  const w: World = { label, objects, informers, events, store, owner: { name: rs.metadata.name, uid: rs.metadata.uid }, published: 0 };
  events.attach((_topic: string, payload: Buffer) => void (w.published += payload.length));
  return w;
}

/** A pod as the ReplicaSet controller asks for it. */
function podOf(w: World): object {
  return replicaSetPod(w.owner, { containers: [{ name: 'main', image: 'registry.local/web:1.4.2', ports: [{ containerPort: 8080 }], resources: { requests: { cpu: '10m', memory: '16Mi' } } }] });
}

/** Runs one phase over the wave's pods; the CPU (µs) per pod, the cache caught up included. */
async function phase(w: World, what: Phase, names: string[], n: number): Promise<number> {
  const t = process.cpuUsage();
  const now = new Date().toISOString();
  if (what === 'create') {
    const made = await Promise.all(Array.from({ length: n }, () => w.objects.create(podOf(w))));
    names.push(...made.map((p: Any) => p.metadata.name));
  } else if (what === 'bind') {
    await Promise.all(
      names.map((name, i) =>
        w.objects.mutate('Pod', 'default', name, (cur: Any) => {
          if (cur.spec.nodeName) return undefined;
          cur.spec.nodeName = `node-${i % 1000}`;
          cur.status = { ...(cur.status ?? {}), phase: cur.status?.phase ?? 'Pending', conditions: [{ type: 'PodScheduled', status: 'True', lastTransitionTime: now }] };
          return cur;
        }),
      ),
    );
  } else if (what === 'status') {
    await Promise.all(
      names.map((name) =>
        w.objects.mutate('Pod', 'default', name, (cur: Any) => {
          cur.status = {
            ...cur.status,
            phase: 'Running',
            hostIP: '10.0.0.1',
            podIP: '10.0.0.1',
            startTime: now,
            conditions: [...(cur.status?.conditions ?? []), ...['Initialized', 'ContainersReady', 'Ready'].map((type) => ({ type, status: 'True', lastTransitionTime: now }))],
            containerStatuses: [{ name: 'main', ready: true, started: true, restartCount: 0, state: { running: { startedAt: now } } }],
          };
          return cur;
        }),
      ),
    );
  } else {
    names.forEach((name, i) => {
      w.events.object('ReplicaSet', 'default', w.owner.name, 'Normal', 'SuccessfulCreate', `Created pod: ${name}`);
      w.events.object('Pod', 'default', name, 'Normal', 'Scheduled', `Successfully assigned default/${name} to node-${i % 1000}`);
    });
  }
  await w.informers.waitForRevision(await w.store.revision());
  const d = process.cpuUsage(t);
  return (d.user + d.system) / n;
}

function pct(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((q / 100) * s.length) - 1)]!;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { trials: { type: 'string', default: '60' }, wave: { type: 'string', default: '100' }, baseline: { type: 'string' }, solo: { type: 'boolean', default: false }, warmup: { type: 'string', default: '5' } } });
  const trials = Number(values.trials);
  const wave = Number(values.wave);
  const here = join(dirname(fileURLToPath(import.meta.url)), '..');
  const worlds = values.baseline
    ? [await open('baseline', values.baseline, false), await open('this build', here, true)]
    : [await open('no cache', here, false), await open('cache', here, true)];
  // --solo: this build alone (for a profile of it: node --cpu-prof ...).
  if (values.solo) worlds.shift();
  const cpu = new Map<string, number[]>();
  const warmup = Number(values.warmup);
  for (let t = 0; t < warmup + trials; t++) {
    // Alternate which build goes first, so neither always runs on a warmer (or colder) heap.
    for (const w of t % 2 ? [...worlds].reverse() : worlds) {
      const names: string[] = [];
      for (const p of phases) {
        const us = await phase(w, p, names, wave);
        if (t < warmup) continue;
        const k = `${w.label}\u0000${p}`;
        cpu.set(k, [...(cpu.get(k) ?? []), us]);
      }
    }
  }
  console.log(`CPU per pod (µs), ${trials} trials of ${wave} pods each (after ${warmup} warm-up trials); ${worlds.map((w) => w.label).join(' vs ')}`);
  console.log(`${'phase'.padEnd(8)} ${worlds.map((w) => `${w.label.padEnd(12)} p50     p99`.padEnd(30)).join('')}  p50 ratio`);
  for (const p of [...phases, 'total'] as const) {
    const rows = worlds.map((w) => {
      const xs = p === 'total' ? Array.from({ length: trials }, (_, i) => phases.reduce((s, q) => s + cpu.get(`${w.label}\u0000${q}`)![i]!, 0)) : cpu.get(`${w.label}\u0000${p}`)!;
      return { p50: pct(xs, 50), p99: pct(xs, 99) };
    });
    const ratio = rows.length > 1 ? (rows[1]!.p50 / rows[0]!.p50).toFixed(2) : '';
    console.log(`${p.padEnd(8)} ${rows.map((r) => `${''.padEnd(12)} ${r.p50.toFixed(0).padStart(5)}  ${r.p99.toFixed(0).padStart(5)}`.padEnd(30)).join('')}  ${ratio}`);
  }
  for (const w of worlds) {
    w.informers.stop();
    await w.store.close();
  }
}

await main();

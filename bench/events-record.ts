/**
 * The master's events in a rollout, in memory (issue 16): every pod created records a SuccessfulCreate on its
 * ReplicaSet and a Scheduled on itself (podcontrol.ts, scheduler/driver.ts), each a new event, with 10,000 kept and
 * nobody subscribed to the events' MQTT topics — what the scale bench's master does per pod. Prints µs per event and
 * the garbage collector's time per event (its pauses on this thread, PerformanceObserver 'gc'), for this tree and, with `--against DIR` (another
 * checkout, built), that tree's, side by side, alternating runs. Run: `npm run build:ts && node dist/bench/events-record.js
 * [--pods 20000] [--rounds 5] [--against /work/main]`.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { PerformanceObserver } from 'node:perf_hooks';

const { values: v } = parseArgs({ options: { pods: { type: 'string', default: '20000' }, rounds: { type: 'string', default: '5' }, against: { type: 'string' } } });
const pods = Number(v.pods);
const rounds = Number(v.rounds);

type Recorder = {
  attach(sink: (t: string, p: Buffer) => void, wanted?: (t: string) => boolean): void;
  object(kind: string, ns: string | undefined, name: string, type: 'Normal' | 'Warning', reason: string, message: string): void;
};
type RecorderClass = new (log: unknown, o: { ttlMs: number; maxEvents: number; onRecorded: (type: string, reason: string, count: number) => void }) => Recorder;

const quiet = { debug() {}, info() {}, warn() {}, error() {}, child() { return quiet; } };

type OnRecorded = (type: string, reason: string, count: number) => void;
interface Tree {
  Rec: RecorderClass;
  /** What the master's recorder is told per event (steps.ts onRecorded), into that tree's own metrics. */
  counter(): OnRecorded;
}

async function load(dir: string): Promise<Tree> {
  const m = await import(pathToFileURL(resolve(dir, 'dist/master/events.js')).href);
  const t = await import(pathToFileURL(resolve(dir, 'dist/master/telemetry/registry.js')).href);
  return {
    Rec: m.EventRecorder as RecorderClass,
    counter() {
      const tel = new t.Telemetry();
      return typeof tel.countEvent === 'function' ? (type, reason, n) => tel.countEvent(type, reason, n) : (type, reason, n) => tel.events.inc({ type, reason }, n);
    },
  };
}

let gcMs = 0;
new PerformanceObserver((l) => {
  for (const e of l.getEntries()) gcMs += e.duration;
}).observe({ entryTypes: ['gc'] });
const tick = () => new Promise((r) => setImmediate(r));

/** One run: `pods` pods' two events each, as a rollout records them; µs of CPU and of GC pauses per event. */
async function run({ Rec, counter }: Tree): Promise<{ us: number; gcUs: number }> {
  const r = new Rec(quiet, { ttlMs: 3_600_000, maxEvents: 10_000, onRecorded: counter() });
  let published = 0;
  r.attach(() => void published++, () => false);
  const rs = 'scale-7d9f8c6b5';
  // The same pod names each run: the kept events start full (10,000) after the first pass, as in a long rollout.
  const names = Array.from({ length: pods }, (_, i) => `${rs}-${i.toString(36).padStart(5, '0')}`);
  for (let i = 0; i < 5000; i++) r.object('Pod', 'default', `warm-${i}`, 'Normal', 'Scheduled', `Successfully assigned default/warm-${i} to sim-${i % 1000}`);
  await tick();
  const gc0 = gcMs;
  const t0 = performance.now();
  for (let i = 0; i < pods; i++) {
    r.object('ReplicaSet', 'default', rs, 'Normal', 'SuccessfulCreate', `Created pod: ${names[i]}`);
    r.object('Pod', 'default', names[i], 'Normal', 'Scheduled', `Successfully assigned default/${names[i]} to sim-${i % 1000}`);
  }
  const ms = performance.now() - t0;
  await tick();
  return { us: (ms * 1000) / (2 * pods), gcUs: ((gcMs - gc0) * 1000) / (2 * pods) };
}

const trees: [string, Tree][] = [['this tree', await load(resolve(import.meta.dirname, '../..'))]];
if (v.against) trees.push([v.against, await load(v.against)]);
const results = new Map<string, { us: number[]; gcUs: number[] }>(trees.map(([n]) => [n, { us: [], gcUs: [] }]));
for (let i = 0; i < rounds; i++)
  for (const [name, tree] of i % 2 ? [...trees].reverse() : trees) {
    const x = await run(tree);
    results.get(name)!.us.push(x.us);
    results.get(name)!.gcUs.push(x.gcUs);
  }
const med = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]!;
console.log(`${pods} pods × 2 events (SuccessfulCreate, Scheduled), 10,000 kept, nobody subscribed; median of ${rounds} runs`);
for (const [name, r] of results) console.log(`${name.padEnd(20)} ${med(r.us).toFixed(2).padStart(6)} µs/event  (GC pauses ${med(r.gcUs).toFixed(2).padStart(5)} µs of it) (runs: ${r.us.map((x) => x.toFixed(2)).join(', ')} µs)`);
process.exit(0); // the metrics' own timers (collectDefaultMetrics)

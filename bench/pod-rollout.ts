/**
 * A Deployment rollout through the master's pod pipeline in one process, without the broker (issue 16): a real
 * store (`:memory:`), cache, ReplicaSet and Deployment controllers, scheduler (the WebAssembly engine), desired
 * sets, one simulated agent per node that reports each pod Running as soon as a desired message brings it (through
 * `onPodsReport`, as the router does), and one API watcher whose events are encoded as the API server encodes them.
 * What it measures is the master's CPU per pod on the path after a pod is created — the scale bench's figure
 * without MQTT, and steady on a busy machine, since it is CPU time, not wall time — and the longest turn of the loop.
 *
 * Run: `npm run bench:pod-rollout -- [nodes 1000] [replicas 10000] [trials 1]`.
 */
import { encodeAnswer, sharedObjects } from '../master/api/encoding.js';
import { startDeploymentController } from '../master/controllers/deployment/sync.js';
import { startReplicaSetController } from '../master/controllers/replicaset.js';
import { DesiredPublisher } from '../master/nodes/desired.js';
import { onPodsReport } from '../master/nodes/pods.js';
import { startScheduler } from '../master/scheduler/driver.js';
import { createEngine } from '../core-wasm/index.js';
import { decodeObject, type DesiredDelta, type DesiredMessage, type PodReport } from '../protocol/index.js';
import { harness } from '../test/controllers/harness.js';
import { deploymentWith, nodeWith } from '../test/controllers/builders.js';
import { runningStatus } from './scale/sim-agent.js';

const nodes = Number(process.argv[2] ?? 1000);
const replicas = Number(process.argv[3] ?? 10000);
const trials = Number(process.argv[4] ?? 1);
const engineCalls: [number, number][] = [];

async function trial(): Promise<{ cpuUsPerPod: number; wallS: number; longestMs: number; turnsOver10: number; commits: string }> {
  const h = await harness();
  const engine = await createEngine({ impl: 'wasm' });
  // The engine's calls: how long each held the loop, and for how many pods (the scheduler's batches).
  const schedule = engine.schedule.bind(engine);
  engine.schedule = (pods) => {
    const t = performance.now();
    const out = schedule(pods);
    engineCalls.push([pods.length, performance.now() - t]);
    return out;
  };
  const names = Array.from({ length: nodes }, (_, i) => `node-${i}`);
  // The agents: each reports the pods a desired message brings, Running, in one message per desired message.
  const reported = new Set<string>();
  const publisher = new DesiredPublisher(h.ctx, async (topic, payload) => {
    if (!payload.length) return;
    const node = /nodes\/([^/]+)\/desired/.exec(topic)![1]!;
    const m = decodeObject<DesiredMessage & Partial<DesiredDelta>>(payload).value;
    const now = new Date().toISOString();
    const pods: PodReport[] = [];
    for (const p of m.pods ?? [])
      if (!reported.has(p.metadata.uid!)) {
        reported.add(p.metadata.uid!);
        pods.push({ namespace: p.metadata.namespace!, name: p.metadata.name, uid: p.metadata.uid!, status: runningStatus(p, now) });
      }
    if (pods.length) void onPodsReport(h.ctx, node, { pods }).catch((err) => console.error(err));
  });
  publisher.start();
  for (const n of names) await h.objects.create(nodeWith({ name: n }));
  await h.run(startReplicaSetController);
  await h.run(startDeploymentController);
  await h.run((ctx) => startScheduler(ctx, engine));
  await publisher.flush();
  for (const n of names) await publisher.onResync(n, { generation: 0 });
  await publisher.flush();

  // The watcher, and the count of Running pods.
  let running = 0;
  let allRunning!: () => void;
  const done = new Promise<void>((r) => (allRunning = r));
  h.informers.on('Pod', (p, old, latest) => {
    encodeAnswer({ id: 'watch-1', ok: true, event: sharedObjects({ type: !p ? 'DELETED' : old ? 'MODIFIED' : 'ADDED', object: latest }) }, 'msgpack');
    if (p?.status?.phase === 'Running' && old?.status?.phase !== 'Running' && ++running === replicas) allRunning();
  });

  // The longest turns of the loop, by a setImmediate ticker.
  let last = performance.now();
  let longestMs = 0;
  let turnsOver10 = 0;
  let ticking = true;
  const tick = () => {
    const now = performance.now();
    longestMs = Math.max(longestMs, now - last);
    if (now - last > 10) turnsOver10++;
    last = now;
    if (ticking) setImmediate(tick);
  };
  const stats = () => (h.store as { commitStats?: () => { batches: number; writes: number } }).commitStats?.() ?? { batches: 0, writes: 0 };
  const before = stats();
  const cpu = process.cpuUsage();
  const began = performance.now();
  setImmediate(tick);
  await h.objects.create(deploymentWith({ name: 'scale', replicas }));
  await done;
  ticking = false;
  const used = process.cpuUsage(cpu);
  const wallS = (performance.now() - began) / 1000;
  const after = stats();
  const commits = `${after.writes - before.writes} writes in ${after.batches - before.batches} transactions`;
  publisher.stop();
  await h.stop();
  return { cpuUsPerPod: (used.user + used.system) / replicas, wallS, longestMs, turnsOver10, commits };
}

console.log(`${nodes} nodes, ${replicas} replicas, in memory (no broker)`);
for (let i = 0; i < trials; i++) {
  engineCalls.length = 0;
  const r = await trial();
  const slowest = engineCalls.reduce((a, b) => (b[1] > a[1] ? b : a), [0, 0]);
  console.log(
    `trial ${i + 1}: CPU per pod ${(r.cpuUsPerPod / 1000).toFixed(3)} ms, all Running after ${r.wallS.toFixed(1)} s (${(replicas / r.wallS).toFixed(0)} pods/s), longest turn ${r.longestMs.toFixed(0)} ms, ${r.turnsOver10} turns > 10 ms; ${r.commits}; ${engineCalls.length} scheduling batches, the longest ${slowest[1].toFixed(1)} ms for ${slowest[0]} pods`,
  );
}

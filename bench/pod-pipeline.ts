/**
 * The master's work per pod after it is created, in memory (issue 16): the desired-set flush of the nodes a rollout
 * binds pods to, and the agents' status reports. A real store (`:memory:`), cache and DesiredPublisher (the
 * controller harness), no broker: `publish` only counts bytes. Each round binds one new pod to every node (as a
 * scheduler batch of a rollout does), flushes, then every node reports its new pod Running (one message per node,
 * as the agents do), and flushes again; then a watcher's events of every pod are encoded. Every node asked for deltas first (`resync`), as today's agents do.
 *
 * Prints, per step, p50 / p99 / max of one call and the time per pod, and the longest turn of the loop a flush held. Run:
 * `npm run bench:pod-pipeline -- [nodes 500] [rounds 20]`.
 */
import { encodeAnswer, sharedObjects } from '../master/api/encoding.js';
import { onPodsReport } from '../master/nodes/pods.js';
import { DesiredPublisher } from '../master/nodes/desired.js';
import type { Pod, PodStatus } from '../protocol/index.js';
import { harness } from '../test/controllers/harness.js';
import { nodeWith } from '../test/controllers/builders.js';
import { runningStatus } from './scale/sim-agent.js';

const nodes = Number(process.argv[2] ?? 500);
const rounds = Number(process.argv[3] ?? 20);

/** A pod as a Deployment's ReplicaSet makes it (labels, owner, one container with env, ports and requests). */
function podOf(i: number, node: string): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: `scale-7d9f8c6b5-${i.toString(36).padStart(5, '0')}`,
      namespace: 'default',
      labels: { app: 'scale', 'pod-template-hash': '7d9f8c6b5' },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'scale-7d9f8c6b5', uid: '3f1c2a9e-0000-4000-8000-000000000001', controller: true, blockOwnerDeletion: true }],
    },
    spec: {
      nodeName: node,
      containers: [
        {
          name: 'main',
          image: 'busybox:1.36',
          command: ['sleep', '3600'],
          env: [{ name: 'MODE', value: 'scale' }, { name: 'INDEX', value: String(i) }],
          ports: [{ containerPort: 8080, protocol: 'TCP' }],
          resources: { requests: { cpu: '1m', memory: '1Mi' } },
        },
      ],
    },
  } as Pod;
}

function stats(name: string, ms: number[], perPod: number): void {
  const s = [...ms].sort((a, b) => a - b);
  const q = (f: number) => s[Math.min(s.length - 1, Math.floor(f * s.length))]!;
  const total = ms.reduce((a, b) => a + b, 0);
  console.log(`${name.padEnd(34)} p50 ${q(0.5).toFixed(2).padStart(7)} ms  p99 ${q(0.99).toFixed(2).padStart(7)} ms  max ${s.at(-1)!.toFixed(2).padStart(7)} ms  ${((total / perPod) * 1000).toFixed(1).padStart(6)} µs/pod  (n=${ms.length})`);
}

async function main(): Promise<void> {
  const h = await harness();
  let bytes = 0;
  let messages = 0;
  const publisher = new DesiredPublisher(h.ctx, async (_topic, payload) => {
    bytes += payload.length;
    messages++;
  });
  publisher.start();
  const names = Array.from({ length: nodes }, (_, i) => `node-${i}`);
  for (const n of names) await h.objects.create(nodeWith({ name: n }));
  await h.informers.waitForRevision(await h.objects.revision());
  await publisher.flush();
  for (const n of names) await publisher.onResync(n, { generation: 0 });
  await publisher.flush();

  // Every flush is timed, the explicit ones and those the publisher's own timer starts meanwhile, by phase.
  const flushes: Record<'bind' | 'status', number[]> = { bind: [], status: [] };
  let phase: keyof typeof flushes = 'bind';
  const flush = publisher.flush.bind(publisher);
  // And the longest turn of the loop each flush held (what a flush that yields bounds), by a setImmediate ticker.
  const turns: number[] = [];
  publisher.flush = async () => {
    const t = performance.now();
    let last = t;
    let longest = 0;
    let done = false;
    const tick = () => {
      const now = performance.now();
      longest = Math.max(longest, now - last);
      last = now;
      if (!done) setImmediate(tick);
    };
    setImmediate(tick);
    await flush();
    done = true;
    const end = performance.now();
    flushes[phase].push(end - t);
    turns.push(Math.max(longest, end - last));
  };
  const reports: number[] = [];
  let i = 0;
  for (let r = 0; r < rounds; r++) {
    phase = 'bind';
    const made = await Promise.all(names.map((n) => h.objects.create(podOf(i++, n))));
    await h.informers.waitForRevision(await h.objects.revision());
    await publisher.flush();
    phase = 'status';
    const now = new Date().toISOString();
    const flushed = flushes.status.reduce((a, b) => a + b, 0);
    const t = performance.now();
    // One message per node, all in flight at once as the router handles different nodes.
    await Promise.all(made.map((p) => onPodsReport(h.ctx, p.spec.nodeName!, { pods: [{ namespace: 'default', name: p.metadata.name, uid: p.metadata.uid!, status: runningStatus(p, now) }] })));
    await h.informers.waitForRevision(await h.objects.revision());
    reports.push(performance.now() - t - (flushes.status.reduce((a, b) => a + b, 0) - flushed));
    await publisher.flush();
  }
  console.log(`${nodes} nodes, ${rounds} rounds (${i} pods, ${rounds} per node at the end); ${messages} desired messages, ${(bytes / 1024).toFixed(0)} KB`);
  stats('desired flushes, bind rounds', flushes.bind, nodes * rounds);
  stats('desired flushes, status rounds', flushes.status, nodes * rounds);
  stats('status reports of a round (stored)', reports, nodes * rounds);
  stats('longest turn of the loop in a flush', turns, nodes * rounds);
  // A watcher's events: every cached pod once, as MODIFIED, in slices of 500 (each a new object: its bytes are built).
  const pods = h.list('Pod').map((p) => ({ ...p, metadata: { ...p.metadata } }));
  const events: number[] = [];
  for (let at = 0; at < pods.length; at += 500) {
    const t = performance.now();
    for (const o of pods.slice(at, at + 500)) encodeAnswer({ id: 'watch-1', ok: true, event: sharedObjects({ type: 'MODIFIED', object: o }) }, 'msgpack');
    events.push(performance.now() - t);
  }
  stats('watch events, 500 at a time', events, pods.length);
  publisher.stop();
  await h.stop();
}

await main();

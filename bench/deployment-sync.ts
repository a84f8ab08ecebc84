/**
 * The Deployment controller's sync at scale (issue 16): one Deployment of N ready pods in the in-memory
 * controller harness (real store, cache and controller, no agents), then the time of one sync with
 * nothing to do: what every pod event of a rollout costs the controller.
 * Run: `npm run bench:deployment-sync -- 10000 20000` (sizes; default 10,000).
 */
import { startDeploymentController } from '../master/controllers/deployment/sync.js';
import { startReplicaSetController } from '../master/controllers/replicaset.js';
import { harness } from '../test/controllers/harness.js';
import { deploymentWith, podWith } from '../test/controllers/builders.js';

async function measure(n: number): Promise<void> {
  const h = await harness();
  try {
    const t0 = performance.now();
    // The controllers make the Deployment's ReplicaSet (0 replicas); the N pods are then written directly,
    // ready, many at a time (the rollout itself is not what is measured here).
    const rsc = await h.run(startReplicaSetController);
    const first = await h.run(startDeploymentController);
    await h.create(deploymentWith({ replicas: 0 }));
    rsc.stop();
    first.stop();
    const rs = h.list('ReplicaSet')[0]!;
    await h.update('Deployment', 'default', 'web', (d) => void (d.spec.replicas = n));
    await h.update('ReplicaSet', 'default', rs.metadata.name, (r) => void (r.spec.replicas = n));
    const labels = { ...rs.spec.template.metadata!.labels! };
    for (let i = 0; i < n; i += 500) {
      await Promise.all(
        Array.from({ length: Math.min(500, n - i) }, (_, j) =>
          h.objects.create({ ...podWith({ name: `web-${i + j}`, labels, owner: rs, node: 'n1', ready: true }), spec: { ...structuredClone(rs.spec.template.spec), nodeName: 'n1' } }),
        ),
      );
    }
    await h.informers.waitForRevision(Number(h.pods().at(-1)?.metadata.resourceVersion ?? 0));
    const dc = startDeploymentController(h.ctx);
    const setupS = (performance.now() - t0) / 1000;
    const times: number[] = [];
    for (let i = 0; i < 30; i++) {
      const t = performance.now();
      await dc.sync('default/web');
      times.push(performance.now() - t);
    }
    dc.stop();
    times.sort((a, b) => a - b);
    console.log(`${n} pods: one sync with nothing to do: p50 ${times[15]!.toFixed(2)} ms, max ${times.at(-1)!.toFixed(2)} ms (setup ${setupS.toFixed(1)} s)`);
  } finally {
    await h.stop();
  }
}

const sizes = process.argv.slice(2).map(Number).filter((x) => x > 0);
for (const n of sizes.length ? sizes : [10_000]) await measure(n);

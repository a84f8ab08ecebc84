/**
 * examples/canary.yaml on a real in-process cluster: two Deployments (3 stable, 1 canary) behind one
 * Service. The Service's selector covers both tracks' pods in the ratio of their replicas and each
 * pod's server answers with its track. How the split follows a scale of either track, and the rolling
 * update a promotion is, are checked in memory (test/controllers/endpoints.test.ts, deployment.test.ts).
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatSelector, type Pod, type ReplicaSet, type Service } from '../../protocol/index.js';
import { eventually, isRunningReady, startCluster, type TestCluster } from '../helpers/cluster.js';

const manifest = readFileSync(new URL('../../examples/canary.yaml', import.meta.url), 'utf8');

/** The ready, not terminating pods the Service's selector picks, by track. */
async function endpointsByTrack(c: TestCluster): Promise<{ pods: Pod[]; stable: number; canary: number }> {
  const svc = await c.api.request<Service>('get', { kind: 'Service', name: 'web' });
  const selector = formatSelector({ matchLabels: svc.spec.selector });
  const pods = (await c.pods(selector)).filter((p) => isRunningReady(p) && !p.metadata.deletionTimestamp);
  const count = (t: string) => pods.filter((p) => p.metadata.labels?.track === t).length;
  return { pods, stable: count('stable'), canary: count('canary') };
}

/** Asks one pod's server over loopback (process pods share the host network) who it is. */
async function ask(p: Pod): Promise<string> {
  const port = p.status?.ports?.[0]?.port;
  const res = await fetch(`http://127.0.0.1:${port}/`);
  return (await res.text()).trim();
}

describe('canary: two Deployments behind one Service (examples/canary.yaml)', () => {
  let c: TestCluster;
  beforeAll(async () => {
    c = await startCluster(['node-a', 'node-b']);
  }, 60_000);
  afterAll(async () => c?.stop());

  it('the Service selects stable and canary pods 3:1, and each answers as its track', async () => {
    await c.apply(manifest);
    const eps = await eventually(async () => {
      const e = await endpointsByTrack(c);
      return e.pods.length === 4 && e.pods.every((p) => p.status?.ports?.[0]?.port) && e;
    }, '4 ready web pods');
    expect({ stable: eps.stable, canary: eps.canary }).toEqual({ stable: 3, canary: 1 });

    // Each Deployment owns only its own track (the selectors do not overlap).
    const rss = (await c.api.request<{ items: ReplicaSet[] }>('list', { kind: 'ReplicaSet', labelSelector: 'app=web' })).items;
    expect(rss.map((rs) => `${rs.metadata.ownerReferences?.[0]?.name}:${rs.spec.selector.matchLabels?.track}`).sort()).toEqual(['web-canary:canary', 'web-stable:stable']);
    for (const p of eps.pods) {
      const rs = rss.find((r) => r.metadata.uid === p.metadata.ownerReferences?.[0]?.uid)!;
      expect(rs.spec.selector.matchLabels?.track).toBe(p.metadata.labels?.track);
    }

    // One request to every endpoint: the answers split like the replicas.
    const answers = await Promise.all(eps.pods.map(ask));
    expect(answers.filter((a) => a.startsWith('stable v1 ')).length).toBe(3);
    expect(answers.filter((a) => a.startsWith('canary v2 ')).length).toBe(1);
  }, 60_000);
});

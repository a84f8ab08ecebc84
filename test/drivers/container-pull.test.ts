/**
 * Image pulls from a real registry (Debian's docker-registry with htpasswd authentication, private to the test's
 * Podman namespace): a pod pulls with the credentials of its `kubernetes.io/dockerconfigjson` imagePullSecret,
 * which the master sends its node; the kubelet's events (Pulling, Pulled with the time and size) say so; without
 * the secret the registry refuses and the pod shows ErrImagePull with the registry's reason.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Pod } from '../../protocol/index.js';
import { podStatus } from '../../cli/format/pod-status.js';
import { startCluster, type TestCluster } from '../helpers/cluster.js';
import { startPodman, type Podman } from '../helpers/podman.js';
import { haveRegistry } from '../helpers/registry.js';
import { eventually } from '../helpers/wait.js';

let pm: Podman;
let c: TestCluster;

beforeAll(async () => {
  if (!haveRegistry()) throw new Error('the pull tests need Debian\'s docker-registry (CI: .ci/run installs it)');
  pm = await startPodman({ registry: true });
  c = await startCluster([]);
  await c.addAgent('puller', undefined, { containerEndpoint: pm.endpoint, podNetwork: 'bridge', podServices: false, imagePullBackoff: { initialMs: 1000, maxMs: 2000 } });
}, 90_000);

afterAll(async () => {
  await c?.stop();
  await pm?.stop();
}, 60_000);

const get = async (name: string) => (await c.pods()).find((p) => p.metadata.name === name);
const events = async (name: string) => (await c.api.request<{ events: { reason: string; message: string }[] }>('describe', { kind: 'Pod', name })).events;

describe('image pulls from a registry', () => {
  it('pulls with the credentials of its dockerconfigjson imagePullSecret, with the kubelet\'s events', async () => {
    const image = `${pm.registry!.host}/skiff/busybox:1`;
    await c.apply(JSON.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'regcred', namespace: 'default' }, type: 'kubernetes.io/dockerconfigjson', data: { '.dockerconfigjson': pm.registry!.dockerConfigJson } }));
    await c.apply(JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'pulled', namespace: 'default' }, spec: { terminationGracePeriodSeconds: 1, imagePullSecrets: [{ name: 'regcred' }], containers: [{ name: 'main', image, imagePullPolicy: 'Always', command: ['sleep', '300'] }] } }));
    await eventually(async () => (await get('pulled'))?.status?.phase === 'Running', 'the pod Running with its pulled image', 30_000);
    const ev = await eventually(async () => {
      const list = await events('pulled');
      return list.some((e) => e.reason === 'Pulled') && list;
    }, 'the Pulled event', 10_000);
    expect(ev.find((e) => e.reason === 'Pulling')?.message).toBe(`Pulling image "${image}"`);
    expect(ev.find((e) => e.reason === 'Pulled')?.message).toMatch(new RegExp(`^Successfully pulled image "${image.replace(/[.]/g, '\\.')}" in \\d+\\.\\d+s \\(\\d+\\.\\d+s including waiting\\)\\. Image size: \\d+ bytes\\.$`));
  });

  it('without the secret the registry refuses: ErrImagePull with its reason, then ImagePullBackOff', async () => {
    const image = `${pm.registry!.host}/skiff/busybox:1`;
    await c.apply(JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'nocreds', namespace: 'default' }, spec: { containers: [{ name: 'main', image, imagePullPolicy: 'Always', command: ['sleep', '300'] }] } }));
    const waiting = await eventually(async () => {
      const p = (await get('nocreds')) as Pod | undefined;
      const w = p?.status?.containerStatuses?.[0]?.state.waiting;
      return w?.reason === 'ErrImagePull' && w;
    }, 'ErrImagePull', 20_000);
    expect(waiting.message).toMatch(/unauthorized|authentication required|401/i);
    await eventually(async () => podStatus((await get('nocreds'))!) === 'ImagePullBackOff', 'ImagePullBackOff', 20_000);
  });
});

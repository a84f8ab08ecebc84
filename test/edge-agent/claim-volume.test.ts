/**
 * A pod's persistentVolumeClaim volume on the agent (edge-agent/volumes/podvolumes.ts): the directory of the volume
 * bound to the claim, from the desired set's `volumes`; created when missing and then owned by the pod's runAsUser
 * (as its emptyDir volumes are), while a directory that already holds data keeps its owner; a claim not bound on
 * this node yet blocks the pod with a message naming it.
 */
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { DesiredMessage, Pod } from '../../protocol/index.js';
import { PodVolumes } from '../../edge-agent/volumes/podvolumes.js';
import { tempDir } from '../helpers/wait.js';

const pod: Pod = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'web-0', namespace: 'default', uid: 'u1' },
  spec: { containers: [{ name: 'main', command: ['x'], volumeMounts: [{ name: 'data', mountPath: 'data' }] }], volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'data-web-0' } }] },
};
const desired = (dir: string): Pick<DesiredMessage, 'configMaps' | 'secrets' | 'volumes'> => ({
  configMaps: {},
  secrets: {},
  volumes: { 'default/data-web-0': { volume: 'pvc-1', path: dir, type: 'DirectoryOrCreate' } },
});

describe('a claim volume on the agent', () => {
  it('is the bound volume\'s directory, created when missing', async () => {
    const base = await tempDir('skiff-claim-');
    const dir = path.join(base, 'volumes', 'pvc-1_default_data-web-0');
    const v = new PodVolumes(pod, path.join(base, 'pod'));
    await v.setup(desired(dir));
    expect(v.dirOf('data')).toBe(dir);
    expect((await fsp.stat(dir)).isDirectory()).toBe(true);
    await v.cleanup();
    expect((await fsp.stat(dir)).isDirectory()).toBe(true); // not deleted with the pod
  });

  it('blocks the pod while the claim is not bound on this node', async () => {
    const base = await tempDir('skiff-claim-');
    const v = new PodVolumes(pod, path.join(base, 'pod'));
    await expect(v.setup({ configMaps: {}, secrets: {} })).rejects.toThrow('volume "data": persistentvolumeclaim "data-web-0" is not bound to a volume on this node yet');
  });

  it.skipIf(process.getuid?.() !== 0)('a runAsUser pod owns the directory it creates; data already there keeps its owner', async () => {
    const base = await tempDir('skiff-claim-');
    const owner = { uid: 4321, gid: 4321 };
    const fresh = path.join(base, 'fresh');
    await new PodVolumes(pod, path.join(base, 'pod-a'), { owner }).setup(desired(fresh));
    expect(await fsp.stat(fresh)).toMatchObject(owner);
    const kept = path.join(base, 'kept');
    await fsp.mkdir(kept);
    await fsp.writeFile(path.join(kept, 'db'), 'rows');
    await new PodVolumes(pod, path.join(base, 'pod-b'), { owner }).setup(desired(kept));
    expect(await fsp.stat(kept)).toMatchObject({ uid: 0, gid: 0 });
  });
});

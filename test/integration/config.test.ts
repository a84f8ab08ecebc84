/**
 * ConfigMaps through the whole cluster: a ConfigMap update applied to the master re-publishes the node's
 * desired set and reaches the file mounted in a running pod, without a restart; the env var from the same
 * key keeps its value (Kubernetes: env is read at container start).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Pod } from '../../protocol/index.js';
import { eventually, isRunningReady, startCluster, type TestCluster } from '../helpers/cluster.js';

const configMap = (mode: string) => `
apiVersion: v1
kind: ConfigMap
metadata: {name: app-config}
data: {mode: ${mode}}
`;

const pod = (out: string) => `
apiVersion: v1
kind: Pod
metadata: {name: reader}
spec:
  terminationGracePeriodSeconds: 1
  volumes: [{name: config, configMap: {name: app-config}}]
  containers:
  - name: main
    command: [node, -e, "const fs = require('fs'); setInterval(() => { fs.writeFileSync(process.argv[1] + '.tmp', fs.readFileSync(process.env.SKIFF_VOLUME_CONFIG + '/mode', 'utf8') + '|' + process.env.MODE); fs.renameSync(process.argv[1] + '.tmp', process.argv[1]); }, 100)", "${out}"]
    env: [{name: MODE, valueFrom: {configMapKeyRef: {name: app-config, key: mode}}}]
    volumeMounts: [{name: config, mountPath: /etc/app}]
`;

describe('ConfigMap volumes through the master', () => {
  let c: TestCluster;
  beforeAll(async () => {
    c = await startCluster(['node-a']);
  }, 60_000);
  afterAll(async () => c?.stop());

  it('a ConfigMap update reaches a mounted file of a running pod', async () => {
    const out = join(c.dir, 'seen');
    const seen = () => readFile(out, 'utf8').catch(() => undefined);
    await c.apply(configMap('blue'));
    await c.apply(pod(out));
    await eventually(async () => (await c.pods()).find((p: Pod) => p.metadata.name === 'reader' && isRunningReady(p)), 'reader running');
    await eventually(async () => (await seen()) === 'blue|blue', 'the first content');
    const t0 = Date.now();
    await c.apply(configMap('green'));
    await eventually(async () => (await seen()) === 'green|blue', 'the new file content, env unchanged', 10_000);
    console.log(`ConfigMap apply → file seen by the pod's process: ${Date.now() - t0} ms (includes the process's 100 ms poll)`);
    const reader = (await c.pods()).find((p) => p.metadata.name === 'reader')!;
    expect(reader.status?.containerStatuses?.[0]?.restartCount).toBe(0);
  });
});

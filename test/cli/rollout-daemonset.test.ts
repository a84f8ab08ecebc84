/**
 * `skiff rollout` for DaemonSets against a real master and two agents: status follows kubectl's daemon
 * set status viewer, history comes from ControllerRevisions, undo and restart roll the pods, pause is
 * refused as kubectl refuses it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Pod } from '../../protocol/index.js';
import { eventually, startCluster, type TestCluster } from '../helpers/cluster.js';
import { cliFor, type CliRun } from './cluster-cli.js';

const ds = (version: string) => `apiVersion: apps/v1
kind: DaemonSet
metadata: {name: probe}
spec:
  selector: {matchLabels: {app: probe}}
  template:
    metadata: {labels: {app: probe}}
    spec:
      terminationGracePeriodSeconds: 1
      containers: [{name: main, env: [{name: VERSION, value: ${version}}], command: [sh, -c, 'trap "exit 0" TERM; while true; do sleep 0.2; done']}]
`;

describe('skiff rollout for daemon sets', () => {
  let c: TestCluster;
  let cli: (args: string[]) => Promise<CliRun>;
  const version = async () => (await c.master.objects.get('DaemonSet', 'default', 'probe'))!.spec.template.spec.containers[0].env![0].value;
  const podVersions = async () => (await c.pods('app=probe')).filter((p: Pod) => p.status?.phase === 'Running' && !p.metadata.deletionTimestamp).map((p) => p.spec.containers[0].env![0].value);

  beforeAll(async () => {
    c = await startCluster(['pi-1', 'pi-2']);
    cli = cliFor(c.master);
    await c.apply(ds('v1'));
  });
  afterAll(async () => c?.stop());

  it('status waits for the daemon set to roll out, with kubectl\'s words', async () => {
    const r = await cli(['rollout', 'status', 'daemonset/probe', '--timeout', '30s']);
    expect(r.code).toBe(0);
    expect(r.stdout.trimEnd().split('\n').at(-1)).toBe('daemon set "probe" successfully rolled out');
    expect(await podVersions()).toEqual(['v1', 'v1']);
  });

  it('history lists ControllerRevisions; a new template is a new revision; undo goes back and moves that revision to the top', async () => {
    await eventually(async () => (await cli(['rollout', 'history', 'ds/probe'])).stdout === 'daemonset.apps/probe\nREVISION  CHANGE-CAUSE\n1         <none>\n', 'revision 1');
    await c.apply(ds('v2').replace('metadata: {name: probe}', 'metadata: {name: probe, annotations: {kubernetes.io/change-cause: "to v2"}}'));
    expect((await cli(['rollout', 'status', 'ds/probe', '--timeout', '30s'])).code).toBe(0);
    expect(await podVersions()).toEqual(['v2', 'v2']);
    await eventually(async () => (await cli(['rollout', 'history', 'ds/probe'])).stdout === 'daemonset.apps/probe\nREVISION  CHANGE-CAUSE\n1         <none>\n2         to v2\n', 'revision 2');
    expect((await cli(['rollout', 'history', 'ds/probe', '--revision', '1'])).stdout).toContain('- name: VERSION\n        value: v1\n');
    expect(await cli(['rollout', 'undo', 'ds/probe'])).toEqual({ code: 0, stdout: 'daemonset.apps/probe rolled back\n', stderr: '' });
    expect(await version()).toBe('v1');
    expect((await cli(['rollout', 'status', 'ds/probe', '--timeout', '30s'])).code).toBe(0);
    await eventually(async () => (await podVersions()).join() === 'v1,v1', 'pods back on v1');
    await eventually(async () => {
      const revs = c.master.informers.list('ControllerRevision', 'default');
      return revs.map((r) => r.revision).sort().join() === '2,3';
    }, 'revision 1 moved to 3');
    expect(await cli(['rollout', 'undo', 'ds/probe', '--to-revision', '9'])).toMatchObject({ code: 1, stderr: 'error: unable to find specified revision 9 in history\n' });
  });

  it('restart replaces every pod; pause is not supported, as in kubectl', async () => {
    const before = (await c.pods('app=probe')).map((p) => p.metadata.uid);
    expect((await cli(['rollout', 'restart', 'daemonset/probe'])).stdout).toBe('daemonset.apps/probe restarted\n');
    expect((await cli(['rollout', 'status', 'daemonset/probe', '--timeout', '30s'])).code).toBe(0);
    await eventually(async () => {
      const now = (await c.pods('app=probe')).filter((p) => p.status?.phase === 'Running' && !p.metadata.deletionTimestamp);
      return now.length === 2 && now.every((p) => !before.includes(p.metadata.uid));
    }, 'every pod replaced');
    expect(await cli(['rollout', 'pause', 'daemonset/probe'])).toMatchObject({ code: 1, stderr: 'error: daemonsets.apps "probe" pausing is not supported\n' });
    expect(await cli(['rollout', 'status', 'configmap/x'])).toMatchObject({ code: 1, stderr: expect.stringContaining('have no rollouts; only deployments, daemonsets and statefulsets do') });
  });
});

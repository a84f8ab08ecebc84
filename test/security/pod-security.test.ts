/**
 * Issue 13: Pod Security levels per namespace, on a real master left at its default (baseline) with a real agent.
 * "Today any edit token runs code as the agent's user on every board and mounts / with hostPath": a hostPath pod
 * in a baseline namespace is refused with the rule named, and so is the pod template of every workload kind; a
 * process pod must name a non-root user to run as (then it runs, as that user); a privileged namespace admits
 * what baseline refuses; `warn` warns (kubectl's `Warning:` lines), `audit` writes the audit log; a namespace's
 * level labels must be levels; raising a level warns about the pods already there and keeps controllers from
 * creating more of them (FailedCreate).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../cli/main.js';
import type { ApplyResult, Pod } from '../../protocol/index.js';
import { startCluster, type TestCluster } from '../helpers/cluster.js';
import { eventually } from '../helpers/wait.js';

const ns = (name: string, labels: Record<string, string> = {}) =>
  `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${name}\n  labels: ${JSON.stringify(labels)}\n---\n`;
const hostPathPod = (name: string, namespace: string) =>
  `apiVersion: v1\nkind: Pod\nmetadata: {name: ${name}, namespace: ${namespace}}\nspec:\n  securityContext: {runAsUser: 65534}\n  containers: [{name: c, command: [sleep, "300"]}]\n  volumes: [{name: root, hostPath: {path: /}}]\n`;
const spec = `{securityContext: {runAsUser: 65534}, containers: [{name: c, command: [sleep, "300"]}], volumes: [{name: root, hostPath: {path: /}}]}`;

describe('Pod Security levels (issue 13)', () => {
  let c: TestCluster;
  const apply = (manifest: string) => c.api.request<{ results: ApplyResult[] }>('apply', { manifest }).then((r) => r.results);
  const cli = async (...args: string[]) => {
    let out = '';
    let err = '';
    const code = await main(['--server', c.master.url, '--token', c.master.adminToken, ...args], { stdout: (s) => void (out += s), stderr: (s) => void (err += s), readStdin: async () => manifestIn, env: {} });
    return { code, out, err };
  };
  let manifestIn = '';

  beforeAll(async () => {
    c = await startCluster(['n1'], { podSecurityDefault: 'baseline' });
    await apply(ns('farm', { 'pod-security.kubernetes.io/enforce': 'baseline' }) + ns('lab', { 'pod-security.kubernetes.io/enforce': 'privileged' }));
  });
  afterAll(() => c?.stop());

  it('a hostPath pod in a baseline namespace is refused with the rule named; nothing is stored', async () => {
    manifestIn = hostPathPod('rootfs', 'farm');
    expect(await cli('apply', '-f', '-')).toEqual({
      code: 1,
      out: '',
      err: 'error: pods "rootfs" is forbidden: violates PodSecurity "baseline:latest": hostPath volumes (volume "root")\n',
    });
    await expect(c.api.request('get', { kind: 'Pod', name: 'rootfs', namespace: 'farm' })).rejects.toMatchObject({ code: 'SKIFF_ERR_NOT_FOUND' });
    // The same pod in a privileged namespace is admitted.
    expect((await apply(hostPathPod('rootfs', 'lab')))[0].action).toBe('created');
  });

  it.each([
    ['Deployment', 'apps/v1', `{replicas: 1, selector: {matchLabels: {a: b}}, template: {metadata: {labels: {a: b}}, spec: ${spec}}}`, 'spec.template'],
    ['ReplicaSet', 'apps/v1', `{replicas: 1, selector: {matchLabels: {a: b}}, template: {metadata: {labels: {a: b}}, spec: ${spec}}}`, 'spec.template'],
    ['DaemonSet', 'apps/v1', `{selector: {matchLabels: {a: b}}, template: {metadata: {labels: {a: b}}, spec: ${spec}}}`, 'spec.template'],
    ['Job', 'batch/v1', `{template: {spec: ${spec.replace('{securityContext', '{restartPolicy: Never, securityContext')}}}`, 'spec.template'],
    ['CronJob', 'batch/v1', `{schedule: "0 3 * * *", jobTemplate: {spec: {template: {spec: ${spec.replace('{securityContext', '{restartPolicy: Never, securityContext')}}}}}`, 'spec.jobTemplate.spec.template'],
  ])('the pod template of a %s is checked too', async (kind, apiVersion, body, field) => {
    const [r] = await apply(`apiVersion: ${apiVersion}\nkind: ${kind}\nmetadata: {name: w, namespace: farm}\nspec: ${body}\n`);
    expect(r).toMatchObject({ action: 'failed', error: { code: 'SKIFF_ERR_FORBIDDEN', message: `${kind}/w: ${field}: violates PodSecurity "baseline:latest": hostPath volumes (volume "root")` } });
  });

  it('in a namespace without a label (the baseline default), a process pod runs only as a named non-root user', async () => {
    const pod = (name: string, sc: string) => `apiVersion: v1\nkind: Pod\nmetadata: {name: ${name}}\nspec:\n  ${sc}\n  containers: [{name: c, command: [/bin/sh, -c, "id -u; exec sleep 300"]}]\n`;
    const [refused] = await apply(pod('as-agent', ''));
    expect(refused.error?.message).toBe(
      `pods "as-agent" is forbidden: violates PodSecurity "baseline:latest": host process (runtimeClassName "process" runs container "c" on the host as the agent's user; it must set securityContext.runAsUser to a non-root user)`,
    );
    expect((await apply(pod('as-nobody', 'securityContext: {runAsUser: 65534, runAsNonRoot: true}')))[0].action).toBe('created');
    const root = process.getuid?.() === 0;
    const p = await eventually(async () => {
      const got = await c.api.request<Pod>('get', { kind: 'Pod', name: 'as-nobody' });
      return (root ? got.status?.phase === 'Running' : got.status?.reason === 'CreateContainerConfigError') && got;
    }, root ? 'the pod running' : 'the agent to refuse the user switch');
    if (root) {
      const logs = await eventually(async () => {
        const text = await c.api.request<string | { text: string }>('logs', { name: 'as-nobody' });
        return (typeof text === 'string' ? text : text.text).trim() || undefined;
      }, 'the pod output');
      expect(logs).toBe('65534'); // it runs as that user, not as the agent
    } else expect(p.status?.message).toContain('needs the agent to run as root');
  });

  it('warn mode warns (kubectl prints Warning: lines), audit mode writes the audit log; neither refuses', async () => {
    await apply(ns('greenhouse', { 'pod-security.kubernetes.io/enforce': 'privileged', 'pod-security.kubernetes.io/warn': 'baseline', 'pod-security.kubernetes.io/audit': 'baseline' }));
    manifestIn = hostPathPod('sensor', 'greenhouse');
    expect(await cli('apply', '-f', '-')).toEqual({
      code: 0,
      out: 'pod/sensor created\n',
      err: 'Warning: would violate PodSecurity "baseline:latest": hostPath volumes (volume "root")\n',
    });
    const lines = readFileSync(join(c.master.config.dataDir, 'audit.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.find((l) => l.name === 'sensor')).toMatchObject({ verb: 'apply', kind: 'Pod', namespace: 'greenhouse', outcome: 'created', podSecurity: ['violates PodSecurity "baseline:latest": hostPath volumes (volume "root")'] });
  });

  it("a namespace's level labels must be levels", async () => {
    const [r] = await apply(ns('typo', { 'pod-security.kubernetes.io/enforce': 'strict' }));
    expect(r.error?.message).toBe('Namespace/typo: metadata.labels[pod-security.kubernetes.io/enforce]: must be one of privileged, baseline, restricted, got "strict"');
  });

  it('raising a level warns about the pods already there; controllers create no more of them (FailedCreate)', async () => {
    await apply(ns('barn', { 'pod-security.kubernetes.io/enforce': 'privileged' }));
    await apply(`apiVersion: apps/v1\nkind: ReplicaSet\nmetadata: {name: hay, namespace: barn}\nspec: {replicas: 1, selector: {matchLabels: {a: b}}, template: {metadata: {labels: {a: b}}, spec: ${spec}}}\n`);
    await eventually(async () => (await c.api.request<{ items: Pod[] }>('list', { kind: 'Pod', namespace: 'barn' })).items.length === 1, 'the first pod');
    const [raised] = await apply(ns('barn', { 'pod-security.kubernetes.io/enforce': 'baseline' }));
    expect(raised.action).toBe('configured');
    expect(raised.warnings?.[0]).toBe('existing pods in namespace "barn" violate the new PodSecurity enforce level "baseline:latest"');
    expect(raised.warnings?.[1]).toMatch(/^hay-\w+: hostPath volumes \(volume "root"\)$/);
    await c.api.request('scale', { kind: 'ReplicaSet', name: 'hay', namespace: 'barn', replicas: 2 });
    const events = await eventually(async () => {
      const d = await c.api.request<{ events: { reason: string; message: string }[] }>('describe', { kind: 'ReplicaSet', name: 'hay', namespace: 'barn' });
      return d.events.find((e) => e.reason === 'FailedCreate');
    }, 'FailedCreate on the ReplicaSet');
    expect(events.message).toMatch(/^Error creating: pods "hay-\w+" is forbidden: violates PodSecurity "baseline:latest": hostPath volumes \(volume "root"\)$/);
    expect((await c.api.request<{ items: Pod[] }>('list', { kind: 'Pod', namespace: 'barn' })).items).toHaveLength(1);
  });
});

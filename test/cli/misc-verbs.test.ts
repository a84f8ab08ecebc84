/**
 * wait, explain, api-resources, cluster-info, auth can-i, completion and version against a real master
 * and agent, with kubectl's output and exit codes.
 */
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startCluster, type TestCluster } from '../helpers/cluster.js';
import { cliFor, type CliOptions, type CliRun } from './cluster-cli.js';

const pod = (name: string, cmd: string) => `apiVersion: v1
kind: Pod
metadata: {name: ${name}, labels: {app: waiter}}
spec:
  restartPolicy: Never
  terminationGracePeriodSeconds: 1
  containers: [{name: main, command: [sh, -c, '${cmd}']}]
`;

describe('wait, explain, api-resources, cluster-info, auth, completion, version', () => {
  let c: TestCluster;
  let cli: (args: string[], opts?: CliOptions) => Promise<CliRun>;

  beforeAll(async () => {
    c = await startCluster(['pi-1']);
    cli = cliFor(c.master);
  });
  afterAll(async () => c?.stop());

  it('wait --for=condition=Ready, --for=jsonpath, --for=delete, and a timeout', async () => {
    await c.apply(pod('slow', 'sleep 1; trap "exit 0" TERM; while true; do sleep 0.2; done'));
    expect(await cli(['wait', '--for=condition=Ready', 'pod/slow', '--timeout=30s'])).toEqual({ code: 0, stdout: 'pod/slow condition met\n', stderr: '' });
    expect(await cli(['wait', '--for=jsonpath={.status.phase}=Running', 'pods', '-l', 'app=waiter'])).toEqual({ code: 0, stdout: 'pod/slow condition met\n', stderr: '' });
    expect(await cli(['wait', '--for=condition=Ready=False', 'pod/slow', '--timeout=1s'])).toEqual({ code: 1, stdout: '', stderr: 'error: timed out waiting for the condition on pods/slow\n' });
    const deleted = cli(['wait', '--for=delete', 'pod/slow', '--timeout=30s']);
    await c.api.request('delete', { kind: 'Pod', name: 'slow', namespace: 'default' });
    expect(await deleted).toEqual({ code: 0, stdout: 'pod/slow deleted\n', stderr: '' });
    expect(await cli(['wait', '--for=condition=Ready', 'pod/none', '--timeout=1s'])).toMatchObject({ code: 1, stderr: 'error: pods "none" not found in namespace "default"\n' });
    expect(await cli(['wait', '--for=sometime', 'pod/x'])).toMatchObject({ code: 1, stderr: expect.stringContaining('unrecognized condition: "sometime"') });
  });

  it('explain: a kind, a field, --recursive; an unknown field', async () => {
    const kind = await cli(['explain', 'deployments']);
    expect(kind.stdout).toMatch(/^GROUP:      apps\nKIND:       Deployment\nVERSION:    v1\n\nDESCRIPTION:\n    Deployment enables declarative updates for Pods and ReplicaSets\.\n/);
    expect(kind.stdout).toContain('\nFIELDS:\n  apiVersion\t<string>\n');
    expect(kind.stdout).toContain('  spec\t<DeploymentSpec> -required-\n');
    const field = await cli(['explain', 'deploy.spec.replicas']);
    expect(field.stdout).toBe('GROUP:      apps\nKIND:       Deployment\nVERSION:    v1\n\nFIELD: replicas <integer>\n\nDESCRIPTION:\n    Number of desired pods. Defaults to 1.\n    \n');
    const pod = await cli(['explain', 'pod.spec.containers.ports']);
    expect(pod.stdout).toMatch(/^KIND:       Pod\nVERSION:    v1\n\nFIELD: ports <\[\]ContainerPort>\n/);
    expect(pod.stdout).toContain('  containerPort\t<integer> -required-\n');
    expect((await cli(['explain', 'cronjob', '--recursive'])).stdout).toContain('    jobTemplate\t<JobTemplateSpec> -required-\n      metadata\t<ObjectMeta>\n');
    expect(await cli(['explain', 'deployment.spec.replicsa'])).toEqual({ code: 1, stdout: '', stderr: 'error: field "replicsa" does not exist\n' });
  });

  it('api-resources lists the kinds served, core first', async () => {
    const r = await cli(['api-resources']);
    expect(r.stdout.split('\n')[0]).toMatch(/^NAME\s+SHORTNAMES\s+APIVERSION\s+NAMESPACED\s+KIND$/);
    expect(r.stdout).toMatch(/\nconfigmaps\s+cm\s+v1\s+true\s+ConfigMap\n/);
    expect(r.stdout).toMatch(/\ndeployments\s+deploy\s+apps\/v1\s+true\s+Deployment\n/);
    expect(r.stdout.indexOf('pods')).toBeLessThan(r.stdout.indexOf('deployments'));
    expect(r.stdout).toMatch(/\nstatefulsets\s+sts\s+apps\/v1\s+true\s+StatefulSet\n/);
    expect(r.stdout).toMatch(/\nstorageclasses\s+sc\s+storage\.k8s\.io\/v1\s+false\s+StorageClass\n/);
    expect((await cli(['api-resources', '--namespaced=false', '-o', 'name'])).stdout).toBe('namespaces\nnodes\npersistentvolumes\nstorageclasses.storage.k8s.io\n');
  });

  it('cluster-info and version (-o json) name the master', async () => {
    const info = await cli(['cluster-info']);
    expect(info.stdout).toMatch(new RegExp(`^Skiff master is running at ${c.master.url.replace(/[.]/g, '\\.')} \\(version v\\d+\\.\\d+\\.\\d+\\)\\nNodes: 1 \\(1 Ready\\)\\n`));
    const v = JSON.parse((await cli(['version', '-o', 'json'])).stdout);
    expect(v.clientVersion.gitVersion).toMatch(/^v\d+\.\d+\.\d+/);
    expect(v.serverVersion.gitVersion).toMatch(/^v\d+\.\d+\.\d+/);
    expect((await cli(['version', '--client'])).stdout).toMatch(/^Client Version: v\S+\n$/);
  });

  it('auth can-i answers from the role rules: yes (exit 0) / no (exit 1)', async () => {
    const { token } = await c.api.request<{ token: string }>('token', { action: 'create', name: 'viewer', access: 'view' });
    const viewer = (args: string[]) => cli(args, { bare: true, env: { SKIFF_SERVER: c.master.url, SKIFF_USER: 'viewer', SKIFF_TOKEN: token } });
    expect(await viewer(['auth', 'can-i', 'list', 'pods'])).toEqual({ code: 0, stdout: 'yes\n', stderr: '' });
    expect(await viewer(['auth', 'can-i', 'get', 'pods/log'])).toEqual({ code: 0, stdout: 'yes\n', stderr: '' });
    expect(await viewer(['auth', 'can-i', 'create', 'deployments'])).toEqual({ code: 1, stdout: 'no\n', stderr: '' });
    expect(await viewer(['auth', 'can-i', 'create', 'pods', '--subresource=portforward'])).toEqual({ code: 1, stdout: 'no\n', stderr: '' });
    expect(await viewer(['auth', 'can-i', 'delete', 'pods', '-q'])).toEqual({ code: 1, stdout: '', stderr: '' });
    expect(await cli(['auth', 'can-i', '*', '*'])).toEqual({ code: 0, stdout: 'yes\n', stderr: '' });
    expect(await cli(['auth', 'can-i', 'create', 'deployments', '-n', 'shop'])).toEqual({ code: 0, stdout: 'yes\n', stderr: '' });
    // What can-i says is what the request meets.
    expect(await viewer(['label', 'nodes', 'pi-1', 'x=y'])).toMatchObject({ code: 1, stderr: expect.stringContaining('may not patch') });
    // Edit access changes workloads, not nodes (only admin access writes Nodes).
    const { token: t2 } = await c.api.request<{ token: string }>('token', { action: 'create', name: 'editor', access: 'edit' });
    const editor = (args: string[]) => cli(args, { bare: true, env: { SKIFF_SERVER: c.master.url, SKIFF_USER: 'editor', SKIFF_TOKEN: t2 } });
    expect(await editor(['auth', 'can-i', 'patch', 'deployments'])).toEqual({ code: 0, stdout: 'yes\n', stderr: '' });
    expect(await editor(['auth', 'can-i', 'patch', 'nodes'])).toEqual({ code: 1, stdout: 'no\n', stderr: '' });
    expect(await editor(['taint', 'nodes', 'pi-1', 'a=b:NoSchedule'])).toMatchObject({ code: 1, stderr: 'error: user "editor" (edit access) may not patch nodes: only admin access may create, change or delete them\n' });
  });

  it('completion prints scripts bash accepts, listing verbs and kinds', async () => {
    const bash = await cli(['completion', 'bash']);
    expect(bash.stdout).toContain('complete -o default -F _skiff skiff');
    expect(bash.stdout).toMatch(/local verbs="[^"]*\bport-forward\b[^"]*\bapply\b|local verbs="[^"]*\bapply\b[^"]*\bport-forward\b/);
    expect(bash.stdout).toContain(' deployments ');
    expect(spawnSync('bash', ['-n'], { input: bash.stdout }).status).toBe(0);
    expect(spawnSync('bash', ['-c', `${bash.stdout}\ntype _skiff >/dev/null`]).status).toBe(0);
    expect((await cli(['completion', 'zsh'])).stdout).toContain('bashcompinit');
    expect((await cli(['completion', 'fish'])).stdout).toContain("complete -c skiff -n '__fish_use_subcommand'");
    expect(await cli(['completion', 'tcsh'])).toMatchObject({ code: 1, stderr: 'error: skiff completion: unsupported shell type "tcsh"; shells: bash, zsh, fish\n' });
  });
});

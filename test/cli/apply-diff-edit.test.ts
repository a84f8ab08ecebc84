/**
 * apply --dry-run=client|server, apply --prune -l, unknown-field warnings, diff (exit 0/1/2) and edit
 * (a scripted $EDITOR, the error loop) against a real in-process master.
 */
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMaster, type Master } from '../../master/index.js';
import { testEngine } from '../helpers/cluster.js';
import { tempDir } from '../helpers/wait.js';
import { cliFor, type CliOptions, type CliRun } from './cluster-cli.js';

const deploy = (name: string, replicas: number | string, extra = '') => `apiVersion: apps/v1
kind: Deployment
metadata: {name: ${name}, labels: {app: shop}}
spec:
  replicas: ${replicas}${extra}
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}}}
    spec: {containers: [{name: main, command: [sleep, '1000']}]}
`;

describe('apply, diff and edit', () => {
  let master: Master;
  let dir: string;
  let cli: (args: string[], opts?: CliOptions) => Promise<CliRun>;
  const file = (name: string, text: string) => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  };
  const get = async (name: string) => master.objects.get('Deployment', 'default', name);

  beforeAll(async () => {
    dir = await tempDir();
    master = await startMaster({ dataDir: join(dir, 'm'), mqttPort: 0, httpPort: -1, mqttHost: '127.0.0.1', quiet: true, engine: testEngine, podSecurityDefault: 'privileged' });
    cli = cliFor(master);
  });
  afterAll(async () => master?.stop());

  it('--dry-run=server validates and defaults on the master and stores nothing; --dry-run=client sends nothing', async () => {
    const f = file('dry.yaml', deploy('dry', 2));
    const server = await cli(['apply', '-f', f, '--dry-run=server']);
    expect(server).toEqual({ code: 0, stdout: 'deployment.apps/dry created (server dry run)\n', stderr: '' });
    const yaml = await cli(['apply', '-f', f, '--dry-run=server', '-o', 'yaml']);
    expect(yaml.stdout).toContain('type: RollingUpdate'); // defaulted by the master
    expect(yaml.stdout).toContain('maxSurge: 25%');
    expect(yaml.stdout).toContain('kubectl.kubernetes.io/last-applied-configuration');
    expect(await cli(['apply', '-f', f, '--dry-run=client'])).toEqual({ code: 0, stdout: 'deployment.apps/dry created (dry run)\n', stderr: '' });
    expect(await get('dry')).toBeUndefined();
    const bad = await cli(['apply', '-f', file('bad.yaml', deploy('bad', '"three"')), '--dry-run=server']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('Deployment/bad: spec.replicas: must be an integer ≥ 0, got "three"');
    expect(await cli(['apply', '-f', f, '--dry-run=maybe'])).toMatchObject({ code: 1, stderr: 'error: Invalid dry-run value (maybe). Must be "none", "server", or "client".\n' });
    // On an existing object: configured as a dry run, the stored one untouched.
    await cli(['apply', '-f', f]);
    const changed = await cli(['apply', '-f', file('dry3.yaml', deploy('dry', 3)), '--dry-run=server']);
    expect(changed.stdout).toBe('deployment.apps/dry configured (server dry run)\n');
    expect((await get('dry'))!.spec.replicas).toBe(2);
  });

  it('marks applied objects; unchanged on a second apply; warns of unknown fields as kubectl does', async () => {
    const f = file('mark.yaml', deploy('mark', 1));
    expect((await cli(['apply', '-f', f])).stdout).toBe('deployment.apps/mark created\n');
    expect((await cli(['apply', '-f', f])).stdout).toBe('deployment.apps/mark unchanged\n');
    const last = JSON.parse((await get('mark'))!.metadata.annotations!['kubectl.kubernetes.io/last-applied-configuration']);
    expect(last).toMatchObject({ kind: 'Deployment', metadata: { name: 'mark' }, spec: { replicas: 1 } });
    const typo = await cli(['apply', '-f', file('typo.yaml', deploy('typo', 1, '\n  replicsa: 3'))]);
    expect(typo).toEqual({ code: 0, stdout: 'deployment.apps/typo created\n', stderr: 'Warning: unknown field "spec.replicsa"\n' });
  });

  it('--prune -l deletes what was applied before, matches and is no longer in the files; nothing else', async () => {
    const both = file('both.yaml', deploy('p-a', 1) + '---\n' + deploy('p-b', 1));
    await cli(['apply', '-f', both, '-l', 'app=shop']);
    // Created without apply (no last-applied annotation): never pruned.
    await master.objects.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'manual', namespace: 'default', labels: { app: 'shop' } }, data: {} });
    const one = file('one.yaml', deploy('p-a', 1));
    expect(await cli(['apply', '-f', one, '--prune'])).toMatchObject({ code: 1, stderr: expect.stringContaining('all resources selected for prune without explicitly passing --all') });
    const dry = await cli(['apply', '-f', one, '--prune', '-l', 'app=shop', '--dry-run=server']);
    expect(dry.stdout).toContain('deployment.apps/p-b pruned (server dry run)\n');
    expect(await get('p-b')).toBeDefined();
    const r = await cli(['apply', '-f', one, '--prune', '-l', 'app=shop']);
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n').filter((l) => l.includes('pruned')).sort()).toEqual(expect.arrayContaining(['deployment.apps/p-b pruned']));
    expect(r.stdout).not.toContain('p-a pruned');
    expect(await get('p-b')).toBeUndefined();
    expect(await get('p-a')).toBeDefined();
    expect(await master.objects.get('ConfigMap', 'default', 'manual')).toBeDefined();
  });

  it('-l applies only the objects it selects', async () => {
    const f = file('sel.yaml', deploy('sel-a', 1) + '---\n' + deploy('sel-b', 1).replace('labels: {app: shop}', 'labels: {app: other}'));
    expect((await cli(['apply', '-f', f, '-l', 'app=other'])).stdout).toBe('deployment.apps/sel-b created\n');
    expect(await get('sel-a')).toBeUndefined();
  });

  it('diff: exit 0 and nothing when equal, 1 with a unified diff when not, 2 on an error', async () => {
    const f = file('diff.yaml', deploy('diffy', 2));
    await cli(['apply', '-f', f]);
    expect(await cli(['diff', '-f', f])).toEqual({ code: 0, stdout: '', stderr: '' });
    const changed = await cli(['diff', '-f', file('diff3.yaml', deploy('diffy', 3))]);
    expect(changed.code).toBe(1);
    expect(changed.stdout).toMatch(/^diff -u -N \/tmp\/LIVE-\d+\/apps\.v1\.Deployment\.default\.diffy \/tmp\/MERGED-\d+\/apps\.v1\.Deployment\.default\.diffy\n--- /);
    expect(changed.stdout).toContain('\n-  replicas: 2\n+  replicas: 3\n');
    expect(changed.stdout).toMatch(/\n-  generation: 1\n\+  generation: 2\n/);
    expect(changed.stdout).not.toMatch(/resourceVersion|^[-+]status/m);
    expect((await get('diffy'))!.spec.replicas).toBe(2);
    const created = await cli(['diff', '-f', file('new.yaml', deploy('brand-new', 1))]);
    expect(created.code).toBe(1);
    expect(created.stdout).toContain('@@ -0,0 +1,');
    expect(created.stdout).toContain('+kind: Deployment\n');
    const error = await cli(['diff', '-f', file('err.yaml', deploy('err', '"three"'))]);
    expect(error.code).toBe(2);
    expect(error.stderr).toContain('spec.replicas: must be an integer');
    expect((await cli(['diff', '-f', join(dir, 'missing.yaml')])).code).toBe(2);
    const external = await cli(['diff', '-f', file('diff4.yaml', deploy('diffy', 4))], { env: { SKIFF_EXTERNAL_DIFF: 'diff -u -N' } });
    expect(external.code).toBe(1);
    expect(external.stdout).toContain('+  replicas: 4');
  });

  it('edit: saves through $EDITOR; no change cancels; an invalid change reopens with the error on top until fixed', async () => {
    await cli(['apply', '-f', file('edit.yaml', deploy('ed', 2))]);
    const sed = (from: string, to: string) => `sed -i 's/${from}/${to}/'`;
    expect(await cli(['edit', 'deployment/ed'], { env: { EDITOR: sed('replicas: 2', 'replicas: 3') } })).toEqual({ code: 0, stdout: 'deployment.apps/ed edited\n', stderr: '' });
    expect((await get('ed'))!.spec.replicas).toBe(3);
    expect(await cli(['edit', 'deploy', 'ed'], { env: { KUBE_EDITOR: 'true' } })).toEqual({ code: 0, stdout: '', stderr: 'Edit cancelled, no changes made.\n' });
    // First save: an invalid value; second save (the file now starts with the error): a valid one.
    const editor = join(dir, 'editor.sh');
    const seen = join(dir, 'seen.txt');
    writeFileSync(editor, `#!/bin/sh\nset -e\ncat "$1" >> ${seen}\necho ---- >> ${seen}\nif grep -q 'was not valid' "$1"; then sed -i 's/replicas: three/replicas: 4/' "$1"; else sed -i 's/replicas: 3/replicas: three/' "$1"; fi\n`);
    chmodSync(editor, 0o755);
    const r = await cli(['edit', 'deployment/ed'], { env: { EDITOR: editor } });
    expect(r).toEqual({ code: 0, stdout: 'deployment.apps/ed edited\n', stderr: '' });
    expect((await get('ed'))!.spec.replicas).toBe(4);
    const [first, second] = readFileSync(seen, 'utf8').split('----\n');
    expect(first.startsWith("# Please edit the object below. Lines beginning with a '#' will be ignored,\n")).toBe(true);
    expect(second).toMatch(/^# Please edit the object below[^]*\n# deployment\.apps\/ed was not valid:\n# \* Deployment\/ed: spec\.replicas: must be an integer ≥ 0, got "three"\n#\n/);
    // Saving the same invalid content again gives up, as kubectl does.
    const stubborn = await cli(['edit', 'deployment/ed'], { env: { EDITOR: sed('replicas: 4', 'replicas: minus') } });
    expect(stubborn.code).toBe(1);
    expect(stubborn.stderr).toContain('error: Edit cancelled, no valid changes were saved.');
    expect((await get('ed'))!.spec.replicas).toBe(4);
  });
});

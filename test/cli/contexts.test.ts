/**
 * Contexts against a real master: several files in SKIFF_CONFIG merged as KUBECONFIG, --context, a
 * context's namespace as the default, `skiff config` verbs writing to the file that defines what they
 * change, and the old single-cluster config.json still working.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { startMaster, type Master } from '../../master/index.js';
import { testEngine } from '../helpers/cluster.js';
import { tempDir } from '../helpers/wait.js';
import { cliFor, type CliOptions, type CliRun } from './cluster-cli.js';

describe('contexts', () => {
  let master: Master;
  let dir: string;
  let run: (args: string[], opts?: CliOptions) => Promise<CliRun>;
  let a: string;
  let b: string;
  const cli = (args: string[]) => run(args, { bare: true, env: { SKIFF_CONFIG: `${a}:${b}` } });

  beforeAll(async () => {
    dir = await tempDir();
    master = await startMaster({ dataDir: join(dir, 'm'), mqttPort: 0, httpPort: -1, mqttHost: '127.0.0.1', quiet: true, engine: testEngine });
    run = cliFor(master);
    await master.objects.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'farm' } });
    await master.objects.apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'in-farm', namespace: 'farm' }, data: {} });
    a = join(dir, 'a.yaml');
    b = join(dir, 'b.json');
    writeFileSync(
      a,
      stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'greenhouse', cluster: { server: master.url } }, { name: 'nowhere', cluster: { server: 'mqtt://127.0.0.1:1' } }],
        users: [{ name: 'greenhouse-admin', user: { username: 'admin', token: master.adminToken } }],
        contexts: [{ name: 'farm', context: { cluster: 'greenhouse', user: 'greenhouse-admin', namespace: 'farm' } }, { name: 'away', context: { cluster: 'nowhere', user: 'greenhouse-admin' } }],
      }),
    );
    // The old single-cluster file, as earlier masters wrote it: read as a context named "default".
    writeFileSync(b, JSON.stringify({ server: master.url, user: 'admin', token: master.adminToken }));
  });
  afterAll(async () => master?.stop());

  it('get-contexts lists the merged contexts and marks the current one; current-context', async () => {
    const r = await cli(['config', 'get-contexts']);
    expect(r.stdout).toMatch(/^CURRENT\s+NAME\s+CLUSTER\s+AUTHINFO\s+NAMESPACE\n {10}farm\s+greenhouse\s+greenhouse-admin\s+farm\n {10}away\s+nowhere\s+greenhouse-admin *\n\* {9}default\s+default\s+default *\n$/);
    expect((await cli(['config', 'current-context'])).stdout).toBe('default\n');
    expect((await cli(['config', 'get-contexts', '-o', 'name'])).stdout).toBe('farm\naway\ndefault\n');
  });

  it('--context picks a context; its namespace is the default namespace; -n overrides it', async () => {
    expect((await cli(['--context', 'farm', 'get', 'cm', '-o', 'name'])).stdout).toBe('configmap/in-farm\n');
    expect((await cli(['--context', 'farm', 'get', 'cm', '-n', 'default'])).stderr).toBe('No resources found in default namespace.\n');
    expect((await cli(['get', 'cm'])).stderr).toBe('No resources found in default namespace.\n');
    expect(await cli(['--context', 'away', 'get', 'cm'])).toMatchObject({ code: 1, stderr: expect.stringContaining('cannot connect to the master at mqtt://127.0.0.1:1') });
    expect(await cli(['--context', 'gone', 'get', 'cm'])).toMatchObject({ code: 1, stderr: 'error: context "gone" not found in the client config (see "skiff config get-contexts")\n' });
  });

  it('use-context writes current-context to the file that sets it; set-context to the file that defines the context', async () => {
    expect(await cli(['config', 'use-context', 'farm'])).toEqual({ code: 0, stdout: 'Switched to context "farm".\n', stderr: '' });
    expect(JSON.parse(readFileSync(b, 'utf8'))['current-context']).toBe('farm');
    expect(readFileSync(a, 'utf8')).not.toContain('current-context');
    expect((await cli(['get', 'cm', '-o', 'name'])).stdout).toBe('configmap/in-farm\n');
    expect((await cli(['config', 'set-context', '--current', '--namespace', 'default'])).stdout).toBe('Context "farm" modified.\n');
    expect(readFileSync(a, 'utf8')).toMatch(/name: farm\n\s+context:\n\s+cluster: greenhouse\n\s+user: greenhouse-admin\n\s+namespace: default/);
    expect((await cli(['get', 'cm'])).stderr).toBe('No resources found in default namespace.\n');
    expect((await cli(['config', 'set-context', 'lab', '--cluster', 'greenhouse', '--user', 'greenhouse-admin', '--namespace', 'farm'])).stdout).toBe('Context "lab" created.\n');
    expect((await cli(['--context', 'lab', 'get', 'cm', '-o', 'name'])).stdout).toBe('configmap/in-farm\n');
    expect(await cli(['config', 'use-context', 'nope'])).toMatchObject({ code: 1, stderr: 'error: no context exists with the name: "nope"\n' });
  });

  it('view merges and redacts tokens (shown with --raw); --minify keeps the current context only', async () => {
    const view = (await cli(['config', 'view'])).stdout;
    expect(view).toContain('token: REDACTED');
    expect(view).not.toContain(master.adminToken);
    expect((await cli(['config', 'view', '--raw'])).stdout).toContain(master.adminToken);
    const min = JSON.parse((await cli(['config', 'view', '--minify', '-o', 'json'])).stdout);
    expect(min.contexts.map((c: { name: string }) => c.name)).toEqual(['farm']);
    expect(min.clusters.map((c: { name: string }) => c.name)).toEqual(['greenhouse']);
  });

  it('the old single-cluster file alone still works (SKIFF_CONFIG and --config)', async () => {
    const old = join(dir, 'old.json');
    writeFileSync(old, JSON.stringify({ server: master.url, token: master.adminToken }));
    expect((await run(['get', 'ns', 'farm', '-o', 'name'], { bare: true, env: { SKIFF_CONFIG: old } })).stdout).toBe('namespace/farm\n');
    expect((await run(['--config', old, 'get', 'ns', 'farm', '-o', 'name'], { bare: true })).stdout).toBe('namespace/farm\n');
  });
});

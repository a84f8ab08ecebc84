/**
 * `skiff get` with kubectl's flags against a real master and agent: get all, --show-labels, -L,
 * -o jsonpath / custom-columns / name, --sort-by, --field-selector (served by the master), --no-headers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startCluster, type TestCluster } from '../helpers/cluster.js';
import { cliFor, type CliRun } from './cluster-cli.js';

const app = (name: string, replicas: number, labels: string) => `apiVersion: apps/v1
kind: Deployment
metadata: {name: ${name}, labels: {${labels}}}
spec:
  replicas: ${replicas}
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}, ${labels}}}
    spec:
      terminationGracePeriodSeconds: 1
      containers: [{name: main, command: [sh, -c, 'trap "exit 0" TERM; while true; do sleep 0.2; done']}]
`;

describe('skiff get with kubectl flags', () => {
  let c: TestCluster;
  let cli: (args: string[]) => Promise<CliRun>;

  beforeAll(async () => {
    c = await startCluster(['pi-1']);
    cli = cliFor(c.master);
    await c.apply(app('web', 2, 'tier: front') + '---\n' + app('db', 1, 'tier: back') + '---\napiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {selector: {app: web}, ports: [{port: 80}]}\n');
    await eventually(async () => (await c.pods()).filter((p) => p.status?.phase === 'Running').length === 3, '3 pods Running');
  });
  afterAll(async () => c?.stop());

  it('get all: one table per kind with kind/name, kubectl\'s order, empty kinds left out', async () => {
    const r = await cli(['get', 'all']);
    expect(r.code).toBe(0);
    const tables = r.stdout.trimEnd().split('\n\n');
    expect(tables.map((t) => t.split('\n')[1].split(/\s+/)[0].split('/')[0])).toEqual(['pod', 'service', 'deployment.apps', 'replicaset.apps']);
    expect(tables[0]).toMatch(/^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\n(pod\/(web|db)-\S+\s+1\/1\s+Running\s+0\s+\S+\n?){3}$/);
    expect(tables[2]).toMatch(/deployment\.apps\/web\s+2\/2\s+2\s+2\s/);
    const none = await cli(['get', 'all', '-n', 'kube-system']);
    expect(none).toEqual({ code: 0, stdout: '', stderr: 'No resources found in kube-system namespace.\n' });
    const json = JSON.parse((await cli(['get', 'all', '-l', 'tier=back', '-o', 'json'])).stdout);
    expect(json.kind).toBe('List');
    expect(json.items.map((o: { kind: string }) => o.kind).sort()).toEqual(['Deployment', 'Pod', 'ReplicaSet']);
  });

  it('--show-labels and -L KEY add columns', async () => {
    const r = await cli(['get', 'deploy', '--show-labels', '-L', 'tier', '-L', 'missing']);
    expect(r.stdout.split('\n')[0]).toMatch(/^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE\s+TIER\s+MISSING\s+LABELS$/);
    expect(r.stdout).toMatch(/\ndb\s+1\/1\s+1\s+1\s+\S+\s+back\s+tier=back\n/);
  });

  it('-o jsonpath, custom-columns, name; --sort-by; --no-headers', async () => {
    expect((await cli(['get', 'deploy', '-o', 'jsonpath={.items[*].metadata.name}', '--sort-by', '.metadata.name'])).stdout).toBe('db web');
    expect((await cli(['get', 'deploy', 'web', '-o', 'jsonpath={.spec.replicas}'])).stdout).toBe('2');
    const range = await cli(['get', 'pods', '-l', 'app=web', '-o', 'jsonpath={range .items[*]}{.spec.nodeName}{"\\n"}{end}']);
    expect(range.stdout).toBe('pi-1\npi-1\n');
    const cols = await cli(['get', 'deploy', '-o', 'custom-columns=NAME:.metadata.name,REPLICAS:.spec.replicas,X:.spec.nothing', '--sort-by=.spec.replicas']);
    expect(cols.stdout).toMatch(/^NAME\s+REPLICAS\s+X\ndb\s+1\s+<none>\nweb\s+2\s+<none>\n$/);
    expect((await cli(['get', 'deploy', '-o', 'name', '--sort-by', '{.metadata.name}'])).stdout).toBe('deployment.apps/db\ndeployment.apps/web\n');
    expect((await cli(['get', 'deploy', '--no-headers', '--sort-by', '.metadata.name'])).stdout).toMatch(/^db\s+1\/1\s.*\nweb\s+2\/2\s/);
  });

  it('--field-selector is served by the master; an unsupported field is refused with the API server\'s words', async () => {
    const running = await cli(['get', 'pods', '--field-selector', 'status.phase=Running,spec.nodeName=pi-1', '-o', 'name']);
    expect(running.stdout.trim().split('\n')).toHaveLength(3);
    const webOnly = (await c.pods('app=web'))[0].metadata.name;
    expect((await cli(['get', 'pods', '--field-selector', `metadata.name=${webOnly}`, '-o', 'name'])).stdout).toBe(`pod/${webOnly}\n`);
    expect((await cli(['get', 'pods', '--field-selector', 'status.phase!=Running'])).stderr).toBe('No resources found in default namespace.\n');
    const bad = await cli(['get', 'pods', '--field-selector', 'spec.foo=bar']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('field label not supported: spec.foo');
    const deploy = await cli(['get', 'deploy', '--field-selector', 'status.phase=Running']);
    expect(deploy.stderr).toContain('field label not supported: status.phase');
  });

  it('--ignore-not-found; a missing name exits 1 with kubectl\'s message', async () => {
    expect(await cli(['get', 'deploy', 'nope', '--ignore-not-found'])).toEqual({ code: 0, stdout: '', stderr: '' });
    const r = await cli(['get', 'deploy', 'nope']);
    expect(r).toMatchObject({ code: 1, stderr: 'error: deployments.apps "nope" not found in namespace "default"\n' });
  });
});

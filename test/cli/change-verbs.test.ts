/**
 * The verbs that change objects, against a real master and agent, with kubectl's output and exit codes:
 * label, annotate, taint, create configmap|secret generic|namespace|deployment|job --from, run, expose,
 * set image|env|resources.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KindName, KObject } from '../../protocol/index.js';
import { eventually, startCluster, type TestCluster } from '../helpers/cluster.js';
import { cliFor, type CliRun } from './cluster-cli.js';

describe('label, annotate, taint, create, run, expose, set', () => {
  let c: TestCluster;
  let cli: (args: string[]) => Promise<CliRun>;
  const get = <K extends KindName>(kind: K, name: string, ns: string | undefined = 'default') => c.master.objects.get(kind, ns, name);

  beforeAll(async () => {
    c = await startCluster(['pi-1']);
    cli = cliFor(c.master);
    expect((await cli(['create', 'deployment', 'web', '--replicas', '2', '--', 'sh', '-c', 'trap "exit 0" TERM; while true; do sleep 0.2; done'])).stdout).toBe('deployment.apps/web created\n');
    await eventually(async () => (await c.pods('app=web')).filter((p) => p.status?.phase === 'Running').length === 2, 'web Running');
  });
  afterAll(async () => c?.stop());

  it('label: sets, refuses to overwrite without --overwrite, removes with KEY-, by name, -l and --all', async () => {
    const pods = (await c.pods('app=web')).map((p) => p.metadata.name).sort();
    const r = await cli(['label', 'pods', '-l', 'app=web', 'tier=front']);
    expect(r.stdout.split('\n').filter(Boolean).sort()).toEqual(pods.map((p) => `pod/${p} labeled`));
    const again = await cli(['label', `pod/${pods[0]}`, 'tier=back']);
    expect(again).toEqual({ code: 1, stdout: '', stderr: "error: 'tier' already has a value (front), and --overwrite is false\n" });
    expect((await cli(['label', '--overwrite', 'pods', pods[0], 'tier=back'])).stdout).toBe(`pod/${pods[0]} labeled\n`);
    expect((await cli(['label', 'pods', pods[0], 'tier=back'])).stdout).toBe(`pod/${pods[0]} not labeled\n`);
    expect((await get('Pod', pods[0]))!.metadata.labels).toMatchObject({ app: 'web', tier: 'back' });
    expect((await cli(['label', 'pods', '--all', 'tier-'])).stdout.split('\n').filter(Boolean)).toHaveLength(2);
    expect((await get('Pod', pods[1]))!.metadata.labels?.tier).toBeUndefined();
    expect((await cli(['label', 'deploy', 'web', 'x=1', '--dry-run=server'])).stdout).toBe('deployment.apps/web labeled (server dry run)\n');
    expect((await get('Deployment', 'web'))!.metadata.labels?.x).toBeUndefined();
    const bad = await cli(['label', 'deploy', 'web', 'bad key=1']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('metadata.labels[bad key]: must be a label key');
  });

  it('annotate, and -o json prints the object', async () => {
    const r = await cli(['annotate', 'deployment/web', 'owner=greenhouse team', '-o', 'json']);
    expect(JSON.parse(r.stdout).metadata.annotations.owner).toBe('greenhouse team');
    expect((await cli(['annotate', 'deployment/web', 'owner-'])).stdout).toBe('deployment.apps/web unannotated\n');
  });

  it('taint: adds, refuses a new value without --overwrite, modifies with it, removes by key:effect and by key', async () => {
    expect(await cli(['taint', 'nodes', 'pi-1', 'dedicated=cam:NoSchedule'])).toEqual({ code: 0, stdout: 'node/pi-1 tainted\n', stderr: '' });
    expect(await cli(['taint', 'nodes', 'pi-1', 'dedicated=x:NoSchedule'])).toMatchObject({ code: 1, stderr: 'error: node pi-1 already has dedicated taint(s) with same effect(s) and --overwrite is false\n' });
    expect((await cli(['taint', 'nodes', 'pi-1', 'dedicated=x:NoSchedule', '--overwrite'])).stdout).toBe('node/pi-1 modified\n');
    expect((await cli(['taint', 'node', 'pi-1', 'other:NoExecute'])).stdout).toBe('node/pi-1 tainted\n');
    expect((await get('Node', 'pi-1', undefined))!.spec!.taints).toEqual([
      { key: 'dedicated', value: 'x', effect: 'NoSchedule' },
      { key: 'other', effect: 'NoExecute' },
    ]);
    expect((await cli(['taint', 'nodes', 'pi-1', 'dedicated:NoSchedule-', 'other-'])).stdout).toBe('node/pi-1 untainted\n');
    expect((await get('Node', 'pi-1', undefined))!.spec?.taints).toBeUndefined();
    expect(await cli(['taint', 'nodes', 'pi-1', 'dedicated-'])).toMatchObject({ code: 1, stderr: 'error: taint "dedicated" not found\n' });
    expect(await cli(['taint', 'nodes', 'pi-1', 'k=v:Sometimes'])).toMatchObject({ code: 1, stderr: expect.stringContaining('invalid taint spec: k=v:Sometimes') });
  });

  it('create configmap and secret generic from literals, files and env files; an existing name is an error', async () => {
    const dir = c.dir;
    writeFileSync(join(dir, 'app.conf'), 'mode=fast\n');
    writeFileSync(join(dir, 'vars.env'), '# comment\nA=1\nB=two words\n');
    const r = await cli(['create', 'configmap', 'app', '--from-literal=greeting=hello', `--from-file=${join(dir, 'app.conf')}`, `--from-file=renamed=${join(dir, 'app.conf')}`, `--from-env-file=${join(dir, 'vars.env')}`]);
    expect(r).toEqual({ code: 0, stdout: 'configmap/app created\n', stderr: '' });
    expect((await get('ConfigMap', 'app') as KObject & { data: object }).data).toEqual({ 'app.conf': 'mode=fast\n', renamed: 'mode=fast\n', greeting: 'hello', A: '1', B: 'two words' });
    expect(await cli(['create', 'configmap', 'app', '--from-literal=a=b'])).toMatchObject({ code: 1, stderr: 'error: failed to create configmap: configmaps "app" already exists\n' });
    expect(await cli(['create', 'cm', 'dup', '--from-literal=a=1', '--from-literal=a=2'])).toMatchObject({ code: 1, stderr: expect.stringContaining('cannot add key a, another key by that name already exists') });
    expect((await cli(['create', 'secret', 'generic', 'creds', '--from-literal=password=s3cret'])).stdout).toBe('secret/creds created\n');
    expect((await get('Secret', 'creds') as KObject & { data: Record<string, string> }).data.password).toBe(Buffer.from('s3cret').toString('base64'));
    expect((await cli(['create', 'namespace', 'farm'])).stdout).toBe('namespace/farm created\n');
  });

  it('create deployment --dry-run=client -o yaml prints what kubectl would; create job --from=cronjob', async () => {
    const y = await cli(['create', 'deployment', 'api', '--image=registry.local/team/api:1.2', '--port', '8080', '--dry-run=client', '-o', 'yaml']);
    expect(y.stdout).toContain('kind: Deployment\n');
    expect(y.stdout).toContain('matchLabels:\n      app: api\n');
    expect(y.stdout).toContain('      containers:\n      - name: api\n        image: registry.local/team/api:1.2\n        ports:\n        - containerPort: 8080\n');
    expect(await get('Deployment', 'api')).toBeUndefined();
    await c.apply(`apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: nightly}\nspec:\n  schedule: "0 3 * * *"\n  jobTemplate:\n    metadata: {labels: {job: nightly}}\n    spec:\n      template:\n        spec:\n          restartPolicy: Never\n          containers: [{name: run, command: [echo, nightly-run]}]\n`);
    expect((await cli(['create', 'job', 'nightly-now', '--from=cronjob/nightly'])).stdout).toBe('job.batch/nightly-now created\n');
    const job = (await get('Job', 'nightly-now'))!;
    expect(job.metadata.annotations).toMatchObject({ 'cronjob.kubernetes.io/instantiate': 'manual' });
    expect(job.metadata.ownerReferences).toMatchObject([{ kind: 'CronJob', name: 'nightly', controller: true }]);
    await eventually(async () => (await get('Job', 'nightly-now'))?.status?.succeeded === 1, 'the manual job succeeds');
    expect(await cli(['create', 'job', 'x', '--from=deployment/web'])).toMatchObject({ code: 1, stderr: 'error: --from: must be cronjob/NAME, got "deployment/web"\n' });
  });

  it('run: a process pod from the words after --; its output in logs', async () => {
    expect((await cli(['run', 'hello', '--restart=Never', '--', 'sh', '-c', 'echo hello from $HOSTNAME'])).stdout).toBe('pod/hello created\n');
    const pod = (await get('Pod', 'hello'))!;
    expect(pod.metadata.labels).toEqual({ run: 'hello' });
    expect(pod.spec.containers[0]).toMatchObject({ name: 'hello', command: ['sh', '-c', 'echo hello from $HOSTNAME'] });
    await eventually(async () => (await get('Pod', 'hello'))?.status?.phase === 'Succeeded', 'hello Succeeded');
    expect((await cli(['logs', 'hello'])).stdout).toBe('hello from hello\n');
    expect(await cli(['run', 'nothing'])).toMatchObject({ code: 1, stderr: expect.stringContaining('give --image=IMAGE, or a command after "--"') });
  });

  it('expose: a Service selecting the deployment\'s pods', async () => {
    expect((await cli(['expose', 'deployment/web', '--port', '80', '--target-port', '8080', '--type', 'NodePort'])).stdout).toBe('service/web exposed\n');
    const svc = (await get('Service', 'web'))!;
    expect(svc.spec).toMatchObject({ type: 'NodePort', selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080, protocol: 'TCP' }] });
    expect(svc.spec.ports[0].nodePort).toBeGreaterThanOrEqual(30000);
    expect(await cli(['expose', 'deployment', 'web', '--name', 'web2'])).toMatchObject({ code: 1, stderr: expect.stringContaining("couldn't find port via --port flag or introspection") });
  });

  it('set image, env (and --list), resources', async () => {
    expect((await cli(['set', 'image', 'deployment/web', 'web=registry.local/web:2'])).stdout).toBe('deployment.apps/web image updated\n');
    expect((await get('Deployment', 'web'))!.spec.template.spec.containers[0].image).toBe('registry.local/web:2');
    expect(await cli(['set', 'image', 'deployment/web', 'nope=x'])).toMatchObject({ code: 1, stderr: 'error: unable to find container named "nope" in deployment.apps/web\n' });
    expect((await cli(['set', 'env', 'deployment/web', 'MODE=fast', 'LEVEL=3'])).stdout).toBe('deployment.apps/web env updated\n');
    expect((await cli(['set', 'env', 'deployment/web', 'LEVEL-', '--from=configmap/app'])).stdout).toBe('deployment.apps/web env updated\n');
    const list = await cli(['set', 'env', 'deployment/web', '--list']);
    expect(list.stdout).toContain('# deployment.apps/web, container web\nMODE=fast\n');
    expect(list.stdout).toContain('# GREETING from configmap app, key greeting\n');
    expect(list.stdout).not.toContain('LEVEL');
    expect((await cli(['set', 'resources', 'deployment/web', '--limits=cpu=200m,memory=64Mi', '--requests=cpu=100m'])).stdout).toBe('deployment.apps/web resource requirements updated\n');
    expect((await get('Deployment', 'web'))!.spec.template.spec.containers[0].resources).toEqual({ limits: { cpu: '200m', memory: '64Mi' }, requests: { cpu: '100m' } });
    const bad = await cli(['set', 'resources', 'deployment/web', '--limits=cpu=lots']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('resources.limits.cpu: must be a quantity');
  });
});

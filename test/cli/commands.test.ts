import { mkdtempSync, writeFileSync, mkdirSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { KObject } from '../../protocol/index.js';
import { ago, podWith, runCli, startFakeMaster, type FakeMaster, type Reply } from './helpers.js';

let master: FakeMaster;
let env: Record<string, string>;
const dir = mkdtempSync(join(tmpdir(), 'skiff-cli-test-'));

beforeAll(async () => {
  master = await startFakeMaster();
  env = { SKIFF_SERVER: master.url, SKIFF_TOKEN: master.token };
});
afterAll(() => master.close());
beforeEach(() => {
  master.requests.length = 0;
  master.handle(() => ({ ok: false, error: { code: 'SKIFF_ERR_INTERNAL', message: 'unexpected request' } }));
});

const deployment: KObject = {
  apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'default', creationTimestamp: ago(300), resourceVersion: '7' },
  spec: { replicas: 2, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', command: ['node', 'server.js'] }] } } },
  status: { replicas: 2, readyReplicas: 2, updatedReplicas: 2, availableReplicas: 2 },
};

describe('get', () => {
  it('lists pods in a table and sends kind, namespace and selector', async () => {
    master.handle(() => ({ result: { kind: 'List', items: [podWith('web-1', { age: 45 }), podWith('web-2', { age: 192 })] } }));
    const r = await runCli(['get', 'po', '-n', 'shop', '-l', 'app=web'], { env });
    expect(r).toEqual({ code: 0, stderr: '', stdout: 'NAME    READY   STATUS    RESTARTS   AGE\nweb-1   1/1     Running   0          45s\nweb-2   1/1     Running   0          3m12s\n' });
    expect(master.requests).toHaveLength(1);
    expect(master.requests[0]).toMatchObject({ verb: 'list', kind: 'Pod', namespace: 'shop', labelSelector: 'app=web' });
  });

  it('-A asks for every namespace and adds a NAMESPACE column', async () => {
    master.handle(() => ({ result: { kind: 'List', items: [podWith('web-1', { namespace: 'shop' })] } }));
    const r = await runCli(['get', 'pods', '-A'], { env });
    expect(r.stdout.split('\n')[0]).toBe('NAMESPACE   NAME    READY   STATUS    RESTARTS   AGE');
    expect(master.requests[0]).toMatchObject({ verb: 'list', kind: 'Pod', allNamespaces: true });
    expect(master.requests[0].namespace).toBeUndefined();
  });

  it('cluster-scoped kinds are listed without a namespace', async () => {
    master.handle(() => ({ result: { kind: 'List', items: [] } }));
    const r = await runCli(['get', 'nodes'], { env });
    expect(r).toMatchObject({ code: 0, stdout: '', stderr: 'No resources found\n' });
    // The CLI asks for records; this fake master answers plain, as a master older than the encoding does.
    expect(master.requests[0]).toEqual({ id: expect.any(String), verb: 'list', kind: 'Node', encoding: 'records' });
  });

  it('an empty list says so on stderr, naming the namespace', async () => {
    master.handle(() => ({ result: { kind: 'List', items: [] } }));
    const r = await runCli(['get', 'deployments'], { env });
    expect(r).toEqual({ code: 0, stdout: '', stderr: 'No resources found in default namespace.\n' });
  });

  it('-o json prints a Kubernetes List with typed items', async () => {
    const bare = podWith('web-1');
    delete (bare as Partial<KObject>).apiVersion;
    delete (bare as Partial<KObject>).kind;
    master.handle(() => ({ result: { kind: 'List', items: [bare] } }));
    const r = await runCli(['get', 'pods', '-o', 'json'], { env });
    expect(r.code).toBe(0);
    const v = JSON.parse(r.stdout);
    expect(Object.keys(v)).toEqual(['apiVersion', 'kind', 'items']);
    expect(v).toMatchObject({ apiVersion: 'v1', kind: 'List', items: [{ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web-1' }, status: { phase: 'Running' } }] });
    expect(Object.keys(v.items[0]).slice(0, 2)).toEqual(['apiVersion', 'kind']);
  });

  it('get by name -o yaml prints the object; -o name prints kind.group/name', async () => {
    master.handle(() => ({ result: deployment }));
    const y = await runCli(['get', 'deploy', 'web', '-o', 'yaml'], { env });
    expect(y.stdout).toMatch(/^apiVersion: apps\/v1\nkind: Deployment\nmetadata:\n  name: web\n/);
    expect(master.requests[0]).toMatchObject({ verb: 'get', kind: 'Deployment', name: 'web', namespace: 'default' });
    const n = await runCli(['get', 'deployment/web', '-o', 'name'], { env });
    expect(n.stdout).toBe('deployment.apps/web\n');
  });

  it('an unknown kind fails before connecting, naming it', async () => {
    const r = await runCli(['get', 'widgets'], { env });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: unknown kind "widgets"/);
    expect(master.requests).toHaveLength(0);
  });

  it('a bad output format gets kubectl\'s message, listing the formats', async () => {
    const r = await runCli(['get', 'pods', '-o', 'table'], { env });
    expect(r).toMatchObject({
      code: 1,
      stderr: 'error: unable to match a printer suitable for the output format "table", allowed formats are: custom-columns, custom-columns-file, json, jsonpath, jsonpath-file, name, wide, yaml\n',
    });
  });

  it('an API error is printed as sent, exit 1', async () => {
    master.handle(() => ({ ok: false, error: { code: 'SKIFF_ERR_NOT_FOUND', message: 'Deployment/default/nope: not found' } }));
    const r = await runCli(['get', 'deployment', 'nope'], { env });
    expect(r).toEqual({ code: 1, stdout: '', stderr: 'error: Deployment/default/nope: not found\n' });
  });

  it('-w prints the list, then each change as a row, until the stream ends', async () => {
    const p1 = podWith('web-1', { age: 45 });
    master.handle((req) =>
      req.verb === 'list'
        ? { result: { kind: 'List', items: [p1] } }
        : [
            { event: { type: 'ADDED', object: p1 } }, // a replay of what the list showed: skipped
            { event: { type: 'ADDED', object: podWith('web-2', { phase: 'Pending', ready: false, waiting: 'ContainerCreating', age: 1 }) } },
            { event: { type: 'MODIFIED', object: podWith('web-2', { age: 2 }) } },
            { done: true },
          ],
    );
    const r = await runCli(['get', 'pods', '-w', '-l', 'app=web'], { env });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      'NAME    READY   STATUS    RESTARTS   AGE\n' +
        'web-1   1/1     Running   0          45s\n' +
        'web-2   0/1     ContainerCreating   0          1s\n' +
        // the STATUS column widened for ContainerCreating; later rows keep the wider column
        'web-2   1/1     Running             0          2s\n',
    );
    expect(master.requests.map((q) => q.verb)).toEqual(['list', 'watch']);
    expect(master.requests[1]).toMatchObject({ kind: 'Pod', namespace: 'default', labelSelector: 'app=web' });
  });

  it('-w watches from the list\'s resourceVersion; when the master drops the watch it lists again and watches from the new list', async () => {
    const p1 = podWith('web-1', { age: 45 });
    let lists = 0;
    let watches = 0;
    master.handle((req) => {
      if (req.verb === 'list') return { result: { kind: 'List', items: lists++ === 0 ? [p1] : [p1, podWith('web-3', { age: 3 })], metadata: { resourceVersion: lists === 1 ? '41' : '77' } } };
      if (watches++ === 0) return [{ event: { type: 'ADDED', object: podWith('web-2', { age: 1 }) } }, { ok: false, done: true, error: { code: 'SKIFF_ERR_GONE', message: 'resourceVersion 41 is too old' } }];
      return [{ event: { type: 'MODIFIED', object: podWith('web-3', { age: 4, phase: 'Failed', ready: false }) } }, { done: true }];
    });
    const r = await runCli(['get', 'pods', '-w'], { env });
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n').map((l) => l.split(/ +/)[0])).toEqual(['NAME', 'web-1', 'web-2', 'web-3', 'web-3', '']);
    expect(master.requests.map((q) => `${q.verb} ${q.resourceVersion ?? '-'}`)).toEqual(['list -', 'watch 41', 'list -', 'watch 77']);
  });

  it('-w ends on Ctrl-C (abort) and cancels the stream', async () => {
    const abort = new AbortController();
    master.handle((req) => (req.verb === 'list' ? { result: { kind: 'List', items: [] } } : req.verb === 'watch' ? [{ event: { type: 'ADDED', object: podWith('web-9') } }] : undefined));
    const r = await runCli(['get', 'pods', '-w'], { env, signal: abort.signal, onStdout: (out) => out.includes('web-9') && abort.abort() });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('web-9');
    const watch = master.requests.find((q) => q.verb === 'watch')!;
    await expect.poll(() => master.requests.find((q) => q.verb === 'cancel')).toMatchObject({ ref: watch.id });
  });
});

describe('apply', () => {
  it('parses locally, sends the objects marked with the last-applied annotation and prints one line per object', async () => {
    const file = join(dir, 'app.yaml');
    writeFileSync(file, 'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: web}\n');
    master.handle(() => ({
      result: [
        { kind: 'Deployment', name: 'web', namespace: 'default', action: 'created' },
        { kind: 'Service', name: 'web', namespace: 'default', action: 'unchanged' },
        { kind: 'ConfigMap', name: 'cfg', namespace: 'default', action: 'configured' },
      ],
    }));
    const r = await runCli(['apply', '-f', file, '-n', 'shop'], { env });
    expect(r).toEqual({ code: 0, stderr: '', stdout: 'deployment.apps/web created\nservice/web unchanged\nconfigmap/cfg configured\n' });
    expect(master.requests[0]).toMatchObject({ verb: 'apply', namespace: 'shop', objects: [{ kind: 'Deployment', metadata: { name: 'web' } }, { kind: 'Service' }] });
    const marked = (master.requests[0].objects as { metadata: { annotations: Record<string, string> } }[])[0].metadata.annotations['kubectl.kubernetes.io/last-applied-configuration'];
    expect(JSON.parse(marked)).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' } });
  });

  it('a failed object prints its error and exits 1; the others still print', async () => {
    master.handle(() => ({
      result: {
        results: [
          { kind: 'Deployment', name: 'web', action: 'failed', error: { code: 'SKIFF_ERR_VALIDATION', message: 'Deployment/web: spec.replicas: must be an integer ≥ 0, got "three"' } },
          { kind: 'Service', name: 'web', action: 'created' },
        ],
      },
    }));
    const r = await runCli(['apply', '-f', '-'], { env, stdin: 'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\n' });
    expect(r).toEqual({ code: 1, stdout: 'service/web created\n', stderr: 'error: Deployment/web: spec.replicas: must be an integer ≥ 0, got "three"\n' });
  });

  it('reads a directory in name order (yaml, yml, json only)', async () => {
    const d = join(dir, 'manifests');
    mkdirSync(d);
    writeFileSync(join(d, 'b.json'), '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"b"}}');
    writeFileSync(join(d, 'a.yml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n');
    writeFileSync(join(d, 'notes.txt'), 'not a manifest: [');
    master.handle((req) => ({ result: [{ kind: 'ConfigMap', name: (req.objects as { metadata: { name: string } }[])[0].metadata.name, action: 'created' }] }));
    const r = await runCli(['apply', '-f', d], { env });
    expect(r.stdout).toBe('configmap/a created\nconfigmap/b created\n');
  });

  it('a parse error names the file and line, and nothing is sent', async () => {
    const good = join(dir, 'good.yaml');
    const bad = join(dir, 'bad.yaml');
    writeFileSync(good, 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n');
    writeFileSync(bad, 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\n  labels: {a: 1\n');
    const r = await runCli(['apply', '-f', good, '-f', bad], { env });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`^error: ${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(line \\d+, column \\d+\\): `));
    expect(master.requests).toHaveLength(0);
  });

  it('a missing file is named', async () => {
    const r = await runCli(['apply', '-f', join(dir, 'nope.yaml')], { env });
    expect(r).toMatchObject({ code: 1, stderr: `error: -f ${join(dir, 'nope.yaml')}: no such file or directory\n` });
  });
});

describe('delete, scale, logs, describe, version', () => {
  it('delete prints kubectl lines and passes cascade', async () => {
    master.handle(() => ({ result: {} }));
    const r = await runCli(['delete', 'deployment', 'web', 'api', '--cascade=orphan'], { env });
    expect(r).toEqual({ code: 0, stderr: '', stdout: 'deployment.apps "web" deleted\ndeployment.apps "api" deleted\n' });
    expect(master.requests.map((q) => [q.verb, q.kind, q.name, q.namespace, q.cascade])).toEqual([
      ['delete', 'Deployment', 'web', 'default', 'orphan'],
      ['delete', 'Deployment', 'api', 'default', 'orphan'],
    ]);
  });

  it('delete -f deletes what a manifest names', async () => {
    const file = join(dir, 'del.yaml');
    writeFileSync(file, 'apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: shop}\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n');
    master.handle(() => ({ result: {} }));
    const r = await runCli(['delete', '-f', file], { env });
    expect(r.stdout).toBe('service "web" deleted\nnamespace "shop" deleted\n');
    expect(master.requests[0]).toMatchObject({ kind: 'Service', name: 'web', namespace: 'shop' });
    expect(master.requests[1].namespace).toBeUndefined();
  });

  it('delete with a bad cascade names the flag', async () => {
    const r = await runCli(['delete', 'deploy', 'web', '--cascade', 'foreground'], { env });
    expect(r).toMatchObject({ code: 1, stderr: 'error: --cascade: must be background or orphan, got "foreground"\n' });
  });

  it('scale accepts deployment/NAME and rs NAME', async () => {
    master.handle(() => ({ result: {} }));
    expect((await runCli(['scale', 'deployment/web', '--replicas', '3'], { env })).stdout).toBe('deployment.apps/web scaled\n');
    expect((await runCli(['scale', 'rs', 'web-7d9c', '--replicas=0'], { env })).stdout).toBe('replicaset.apps/web-7d9c scaled\n');
    expect(master.requests.map((q) => [q.verb, q.kind, q.name, q.replicas])).toEqual([
      ['scale', 'Deployment', 'web', 3],
      ['scale', 'ReplicaSet', 'web-7d9c', 0],
    ]);
    const bad = await runCli(['scale', 'deployment/web', '--replicas', 'three'], { env });
    expect(bad).toMatchObject({ code: 1, stderr: 'error: --replicas: must be an integer ≥ 0, got "three"\n' });
  });

  // logs reads the pod first (its containers, as kubectl does), then asks for the logs.
  const pod = (res: Reply) => (req: { verb: string }) => (req.verb === 'get' ? { result: podWith('web-1', { node: 'pi-1' }) } : res);

  it('logs prints the text; --tail, -c and --previous are sent', async () => {
    master.handle(pod({ result: 'listening on 40123\nGET /\n' }));
    const r = await runCli(['logs', 'web-1', '-c', 'web', '--tail', '20', '--previous'], { env });
    expect(r).toEqual({ code: 0, stderr: '', stdout: 'listening on 40123\nGET /\n' });
    expect(master.requests[1]).toMatchObject({ verb: 'logs', name: 'web-1', namespace: 'default', container: 'web', tailLines: 20, previous: true });
  });

  it('logs -f streams chunks until done', async () => {
    master.handle(pod([{ chunk: 'line 1\n' }, { chunk: 'line 2\n' }, { chunk: 'line 3\n', done: true }]));
    const r = await runCli(['logs', '-f', 'pod/web-1'], { env });
    expect(r).toEqual({ code: 0, stderr: '', stdout: 'line 1\nline 2\nline 3\n' });
    expect(master.requests[1]).toMatchObject({ verb: 'logs', name: 'web-1', follow: true });
  });

  it('logs -f reports an error that arrives mid-stream', async () => {
    master.handle(pod([{ chunk: 'line 1\n' }, { ok: false, error: { code: 'SKIFF_ERR_UNAVAILABLE', message: 'node pi-1 is not reachable' } }]));
    const r = await runCli(['logs', '-f', 'web-1'], { env });
    expect(r).toEqual({ code: 1, stdout: 'line 1\n', stderr: 'error: node pi-1 is not reachable\n' });
  });

  it('describe pod lays out the pod and its events', async () => {
    const pod = podWith('web-1', { node: 'pi-1', ip: '192.168.1.20', restarts: 1, lastRestartAgo: 30 });
    pod.metadata.ownerReferences = [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-7d9c', uid: 'u', controller: true }];
    master.handle(() => ({
      result: {
        object: pod,
        events: [
          { type: 'Normal', reason: 'Scheduled', message: 'Successfully assigned default/web-1 to pi-1', source: 'scheduler', ts: Date.parse(ago(60)) },
          { type: 'Warning', reason: 'BackOff', message: 'Back-off restarting failed container', source: { component: 'agent' }, count: 3, firstTimestamp: ago(50), lastTimestamp: ago(30) },
        ],
      },
    }));
    const r = await runCli(['describe', 'pod', 'web-1'], { env });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Name:           web-1\nNamespace:      default\nNode:           pi-1/192.168.1.20\n');
    expect(r.stdout).toContain('Controlled By:  ReplicaSet/web-7d9c\n');
    expect(r.stdout).toContain('Containers:\n  web:\n    Command:\n      node\n      server.js\n');
    expect(r.stdout).toMatch(/    State:          Running\n      Started:      \w{3}, /);
    expect(r.stdout).toContain('    Last State:     Terminated\n      Reason:       Error\n      Exit Code:    1\n      Finished:     Sat, 10 Jan 2026 11:59:30 +0000\n');
    expect(r.stdout).toContain('    Restart Count:  1\n');
    expect(r.stdout).toContain('Conditions:\n  Type   Status\n  ----   ------\n  Ready  True\n');
    expect(r.stdout).toContain(
      'Events:\n' +
        '  Type     Reason     Age                From       Message\n' +
        '  ----     ------     ----               ----       -------\n' +
        '  Normal   Scheduled  60s                scheduler  Successfully assigned default/web-1 to pi-1\n' +
        '  Warning  BackOff    30s (x3 over 50s)  agent      Back-off restarting failed container\n',
    );
    expect(master.requests[0]).toMatchObject({ verb: 'describe', kind: 'Pod', name: 'web-1', namespace: 'default' });
  });

  it('describe node lists the pods bound to it', async () => {
    const node: KObject = {
      apiVersion: 'v1', kind: 'Node', metadata: { name: 'pi-1', creationTimestamp: ago(86400) }, spec: {},
      status: { capacity: { cpu: '4', memory: '8Gi', pods: '110' }, allocatable: { cpu: '4', memory: '7Gi', pods: '110' }, conditions: [{ type: 'Ready', status: 'True', reason: 'AgentReady' }], addresses: [{ type: 'InternalIP', address: '192.168.1.20' }], nodeInfo: { architecture: 'arm64', operatingSystem: 'linux', runtimes: ['process', 'wasi'] } },
    };
    master.handle((req) => (req.verb === 'describe' ? { result: { object: node, events: [] } } : { result: { kind: 'List', items: [podWith('web-1', { node: 'pi-1' }), podWith('other', { node: 'pi-2' })] } }));
    const r = await runCli(['describe', 'node', 'pi-1'], { env });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Capacity:\n  cpu:     4\n  memory:  8Gi\n  pods:    110\n');
    expect(r.stdout).toContain('  Runtimes:                   process, wasi\n');
    expect(r.stdout).toContain('Non-terminated Pods:  (1 in total)\n');
    expect(r.stdout).toMatch(/  default    web-1 +0 +0 +Running/);
    expect(r.stdout).not.toContain('other');
    expect(r.stdout.endsWith('Events:  <none>\n')).toBe(true);
  });

  it('version prints client and server versions', async () => {
    master.handle(() => ({ result: { version: 'v0.1.0' } }));
    const r = await runCli(['version'], { env });
    expect(r).toEqual({ code: 0, stderr: '', stdout: 'Client Version: v0.1.0\nServer Version: v0.1.0\n' });
  });
});

describe('usage and connection errors', () => {
  it('--help and VERB --help print usage without connecting', async () => {
    const g = await runCli(['--help']);
    expect(g.code).toBe(0);
    expect(g.stdout).toMatch(/Usage:\n  skiff \[--server URL\]/);
    for (const v of ['apply', 'get', 'describe', 'delete', 'logs', 'scale', 'master', 'up']) expect(g.stdout).toContain(`  ${v} `);
    const h = await runCli(['get', '--help']);
    expect(h).toMatchObject({ code: 0, stderr: '' });
    expect(h.stdout).toContain('-A, --all-namespaces');
  });

  it('an unknown verb, an unknown flag and a missing value are named', async () => {
    expect(await runCli(['frobnicate'])).toMatchObject({ code: 1, stderr: 'error: unknown command "frobnicate" for "skiff" (see "skiff --help")\n' });
    expect(await runCli(['get', 'pods', '--frob'])).toMatchObject({ code: 1, stderr: 'error: unknown flag "--frob" for "skiff get" (see "skiff get --help")\n' });
    expect(await runCli(['get', 'pods', '-n'])).toMatchObject({ code: 1, stderr: 'error: flag "--namespace" of "skiff get" needs a value (see "skiff get --help")\n' });
    expect(await runCli(['scale', 'deployment/web'])).toMatchObject({ code: 1, stderr: 'error: skiff scale: --replicas is required\n' });
  });

  it('a refused connection is one clear line, fast', async () => {
    const port = await freePort();
    const t0 = Date.now();
    const r = await runCli(['get', 'pods', '--server', `mqtt://127.0.0.1:${port}`], { env: { SKIFF_TOKEN: 'x' } });
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(r).toEqual({ code: 1, stdout: '', stderr: `error: cannot connect to the master at mqtt://127.0.0.1:${port}: connection refused (is it running? "skiff master" or "skiff up" starts one)\n` });
  });

  it('a server that accepts TCP but never answers MQTT times out with the server named', async () => {
    const silent = net.createServer(() => {});
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const url = `mqtt://127.0.0.1:${(silent.address() as net.AddressInfo).port}`;
    try {
      const r = await runCli(['get', 'pods', '--request-timeout', '300ms'], { env: { SKIFF_SERVER: url, SKIFF_TOKEN: 'x' } });
      expect(r).toMatchObject({ code: 1, stderr: `error: no answer from the master at ${url} within 300ms\n` });
    } finally {
      silent.close();
    }
  });

  it('a master that never answers a request times out', async () => {
    master.handle(() => undefined);
    const r = await runCli(['get', 'pods', '--request-timeout', '300ms'], { env });
    expect(r).toMatchObject({ code: 1, stderr: `error: no answer from the master at ${master.url} within 300ms\n` });
  });

  it('bad credentials are one clear line', async () => {
    const r = await runCli(['get', 'pods'], { env: { SKIFF_SERVER: master.url, SKIFF_TOKEN: 'wrong' } });
    expect(r).toEqual({ code: 1, stdout: '', stderr: `error: the master at ${master.url} refused the credentials of user "admin"\n` });
    const none = await runCli(['get', 'pods'], { env: { SKIFF_SERVER: master.url } });
    expect(none.stderr).toContain('(no token given: use --token, SKIFF_TOKEN or a config file)');
  });

  it('reads server and token from the config file; flags win over it', async () => {
    const cfg = join(dir, 'config.json');
    writeFileSync(cfg, JSON.stringify({ server: master.url, user: 'admin', token: master.token }));
    master.handle(() => ({ result: { kind: 'List', items: [] } }));
    expect((await runCli(['get', 'ns', '--config', cfg])).code).toBe(0);
    expect((await runCli(['get', 'ns'], { env: { SKIFF_CONFIG: cfg } })).code).toBe(0);
    const r = await runCli(['get', 'ns', '--config', cfg, '--token', 'wrong']);
    expect(r.stderr).toContain('refused the credentials');
    const missing = await runCli(['get', 'ns', '--config', join(dir, 'none.json')]);
    expect(missing.stderr).toMatch(/^error: cannot read the config file .*none\.json/);
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

/**
 * WASI pods end to end: `skiff apply` → master → agent → node:wasi in a child process, and back through
 * `skiff logs`. The module comes from a file on the node, from a URL (fetched once, checked against its
 * digest, refused on a mismatch with ErrImagePull) and from a ConfigMap the master sends with the desired set.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../cli/main.js';
import type { Pod } from '../../protocol/index.js';
import { eventually, startCluster, type TestCluster } from '../helpers/cluster.js';
import { helloWasm, sha256Of } from '../helpers/wasi.js';

describe('WASI pods', () => {
  let c: TestCluster;
  let wasm: string;
  let server: http.Server;
  let base: string;
  const fetches = new Map<string, number>();

  const cli = async (args: string[]) => {
    const r = { code: -1, out: '', err: '' };
    const io = { stdout: (s: string) => void (r.out += s), stderr: (s: string) => void (r.err += s), readStdin: async () => '', env: {} };
    r.code = await main(['--server', c.master.url, '--token', c.master.adminToken, ...args], io);
    return r;
  };
  const pod = async (name: string) => (await c.pods()).find((p) => p.metadata.name === name) as Pod | undefined;

  beforeAll(async () => {
    wasm = await helloWasm();
    server = http.createServer((req, res) => {
      fetches.set(req.url ?? '', (fetches.get(req.url ?? '') ?? 0) + 1);
      if (req.url?.startsWith('/hello.wasm')) res.end(fs.readFileSync(wasm));
      else res.writeHead(404).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    c = await startCluster(['w1']);
  }, 120_000);
  afterAll(async () => {
    await c?.stop();
    server?.close();
  });

  it('prints to skiff logs, exits 3, is restarted by its restartPolicy, and --previous shows the last attempt', async () => {
    const node = (await c.nodes())[0];
    expect(node.status?.nodeInfo?.runtimes).toContain('wasi');
    await c.apply(`apiVersion: v1
kind: Pod
metadata: {name: hello}
spec:
  runtimeClassName: wasi
  containers:
  - name: hello
    image: file://${wasm}
    args: [exit, '3']
    env: [{name: GREETING, value: bonjour}]
    volumeMounts: [{name: data, mountPath: /data}]
  volumes: [{name: data, emptyDir: {}}]
`);
    const p = await eventually(async () => {
      const x = await pod('hello');
      return (x?.status?.containerStatuses?.[0].restartCount ?? 0) >= 1 && x;
    }, 'hello restarted', 30_000);
    expect(p.status?.containerStatuses?.[0].lastState?.terminated).toMatchObject({ exitCode: 3, reason: 'Error' });
    // The current attempt may be starting right now: its log fills within a moment.
    const logs = await eventually(async () => {
      const r = await cli(['logs', 'hello']);
      return r.out.includes('wrote out.txt') && r;
    }, 'the current attempt logged');
    expect(logs.code).toBe(0);
    expect(logs.out).toContain('hello from wasi: GREETING=bonjour args=exit,3');
    expect(logs.out).toContain('a line on stderr');
    expect(logs.out).toContain('wrote out.txt'); // into the emptyDir, preopened as /data
    const previous = await cli(['logs', 'hello', '--previous']);
    expect(previous.out).toContain('hello from wasi: GREETING=bonjour');
    const dataDir = c.agents[0].dataDir;
    expect(fs.readFileSync(`${dataDir}/pods/${p.metadata.uid}/volumes/data/out.txt`, 'utf8')).toBe('written by wasi\n');
  }, 60_000);

  it('a module from a URL is fetched once and checked against its digest; a mismatch is ErrImagePull, never run', async () => {
    const good = `${base}/hello.wasm#sha256=${sha256Of(wasm)}`;
    const bad = `${base}/hello.wasm?tampered#sha256=${'0'.repeat(64)}`;
    const manifest = (name: string, image: string) => `apiVersion: v1
kind: Pod
metadata: {name: ${name}}
spec:
  runtimeClassName: wasi
  restartPolicy: Never
  containers: [{name: m, image: '${image}', args: [exit, '0']}]
`;
    await c.apply([manifest('from-url', good), manifest('from-url-again', good), manifest('tampered', bad)].join('---\n'));
    await eventually(async () => (await pod('from-url'))?.status?.phase === 'Succeeded' && (await pod('from-url-again'))?.status?.phase === 'Succeeded', 'both url pods done', 30_000);
    const t = await eventually(async () => {
      const x = await pod('tampered');
      return x?.status?.reason && x;
    }, 'the tampered pod refused', 30_000);
    expect(t.status?.phase).toBe('Pending');
    expect(t.status?.reason).toMatch(/^(ErrImagePull|ImagePullBackOff)$/);
    expect(t.status?.message).toMatch(/digest mismatch: the image names sha256:0{64}, the server sent sha256:[0-9a-f]{64}/);
    expect(t.status?.containerStatuses?.[0].state.waiting?.reason).toMatch(/^(ErrImagePull|ImagePullBackOff)$/);
    // Two pods of the good digest, one fetch; the tampered one fetched (again after each back-off), never cached.
    expect(fetches.get('/hello.wasm')).toBe(1);
    expect(fetches.get('/hello.wasm?tampered')).toBeGreaterThanOrEqual(1);
  }, 60_000);

  it('a module from a ConfigMap (binaryData) reaches the node running the pod', async () => {
    await c.apply(`apiVersion: v1
kind: ConfigMap
metadata: {name: modules}
binaryData:
  hello.wasm: ${fs.readFileSync(wasm).toString('base64')}
---
apiVersion: v1
kind: Pod
metadata: {name: from-configmap}
spec:
  runtimeClassName: wasi
  containers: [{name: m, image: 'configmap://modules/hello.wasm', args: [ticks], env: [{name: GREETING, value: cm}]}]
`);
    await eventually(async () => (await pod('from-configmap'))?.status?.phase === 'Running', 'from-configmap Running', 30_000);
    const logs = await eventually(async () => {
      const r = await cli(['logs', 'from-configmap']);
      return r.out.includes('tick 1') && r.out;
    }, 'ticks in skiff logs');
    expect(logs).toContain('hello from wasi: GREETING=cm args=ticks');
  }, 60_000);
});

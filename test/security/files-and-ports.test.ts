/**
 * Issue 13: files and ports. Every file the master keeps in its data dir — tokens, the client config, the
 * encryption config, the audit log, the store and its WAL — is 0600 in a 0700 directory; the agent keeps its
 * credential, its cache of desired pods (with their Secrets) and its pid files 0600, its logs 0700, and its data
 * dir only passable (0711) for pods that run as another user. The HTTPS `/healthz`, `/readyz` and `/metrics` stay
 * unauthenticated and show counts and series names, never object data or anything an agent chose (a forged pod
 * phase is refused before it is stored).
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encode, topics, type Pod } from '../../protocol/index.js';
import { startCluster, type TestCluster } from '../helpers/cluster.js';
import { httpsGet } from '../helpers/https.js';
import { eventually } from '../helpers/wait.js';
import { readFileSync } from 'node:fs';

const mode = (p: string) => statSync(p).mode & 0o777;

/** Every path under `dir` with its mode, recursively (symlinks not followed). */
function modes(dir: string): [string, number, boolean][] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const p = join(dir, d.name);
    if (d.isSymbolicLink()) return [];
    return d.isDirectory() ? [[p, mode(p), true] as [string, number, boolean], ...modes(p)] : [[p, mode(p), false] as [string, number, boolean]];
  });
}

describe('files and ports (issue 13)', () => {
  let c: TestCluster;

  beforeAll(async () => {
    c = await startCluster(['n1'], { httpPort: 0, httpHost: '127.0.0.1' });
    await c.apply(
      'apiVersion: v1\nkind: Namespace\nmetadata: {name: secret-project}\n---\n' +
        'apiVersion: v1\nkind: Secret\nmetadata: {name: db-password, namespace: secret-project}\nstringData: {p: x-secret-value}\n---\n' +
        'apiVersion: v1\nkind: Pod\nmetadata: {name: confidential-worker, namespace: secret-project}\nspec:\n  containers: [{name: c, command: [sleep, "300"], env: [{name: P, valueFrom: {secretKeyRef: {name: db-password, key: p}}}]}]\n',
    );
    await eventually(async () => (await c.pods()).find((p) => p.status?.phase === 'Running'), 'the pod running');
  });
  afterAll(() => c?.stop());

  it("the master's data dir: 0700, and every file in it 0600 but the public certificates", () => {
    const dir = c.master.config.dataDir;
    expect(mode(dir)).toBe(0o700);
    const files = modes(dir);
    for (const name of ['admin.token', 'join.token', 'config.json', 'encryption-config.json', 'audit.log', 'skiff.db', 'tls/ca.key']) expect(files.map(([p]) => p)).toContain(join(dir, name));
    for (const [p, m, isDir] of files) {
      if (p.endsWith('.crt')) expect([p, m & 0o022]).toEqual([p, 0]); // public certificates: readable, writable by the master only
      else expect([p, m]).toEqual([p, isDir ? 0o700 : 0o600]);
    }
  });

  it("the agent's data dir: passable only; its own files 0600, its logs 0700", () => {
    const dir = join(c.dir, 'n1');
    expect(mode(dir)).toBe(0o711);
    expect(mode(join(dir, 'pods'))).toBe(0o711);
    expect(mode(join(dir, 'logs'))).toBe(0o700);
    for (const f of ['credential', 'desired.msgpack']) expect([f, mode(join(dir, f))]).toEqual([f, 0o600]);
    const own = modes(join(dir, 'pods')).filter(([p, , isDir]) => !isDir && (p.endsWith('.pid') || p.endsWith('state.json')));
    expect(own.length).toBeGreaterThanOrEqual(2);
    for (const [p, m] of own) expect([p, m]).toEqual([p, 0o600]);
  });

  it('health and metrics answer without credentials and show no object data, nothing an agent chose', async () => {
    const base = `https://127.0.0.1:${c.master.httpPort}`;
    const ca = readFileSync(join(c.master.config.dataDir, 'tls', 'ca.crt'), 'utf8');
    for (const path of ['/healthz', '/readyz']) expect((await httpsGet(base + path, ca)).body).toBe('ok\n');
    // A node reports a phase of its own invention for its pod: refused (the pod keeps its status), never in the metrics.
    const pod = (await c.pods()).find((p) => p.metadata.name === 'confidential-worker')!;
    const credential = readFileSync(join(c.dir, 'n1', 'credential'), 'utf8').trim();
    const n1 = mqtt.connect(c.master.url, { protocolVersion: 4, clientId: 'n1-phase', username: 'n1', password: credential, reconnectPeriod: 0 });
    await new Promise((r) => n1.once('connect', r));
    await n1.publishAsync(topics.nodePods('n1'), encode({ pods: [{ namespace: 'secret-project', name: pod.metadata.name, uid: pod.metadata.uid, status: { phase: 'Evil"} 1\nskiff_owned{x="' } }] }), { qos: 1 });
    const refused = await eventually(async () => {
      const d = await c.api.request<{ events: { reason: string; message: string }[] }>('describe', { kind: 'Pod', name: pod.metadata.name, namespace: 'secret-project' });
      return d.events.find((e) => e.reason === 'StatusRefused');
    }, 'the forged status refused');
    expect(refused.message).toMatch(/^Pod\/confidential-worker: status report: phase: must be one of Pending, Running, Succeeded, Failed, Unknown, got "Evil/);
    expect((await c.api.request<Pod>('get', { kind: 'Pod', name: pod.metadata.name, namespace: 'secret-project' })).status?.phase).toBe('Running');
    const res = await httpsGet(base + '/metrics', ca);
    expect(res.status).toBe(200);
    const text = res.body;
    expect(text).toMatch(/skiff_pods\{phase="Running"\} 1/);
    // Series carry the names that tell them apart (nodes, namespaces, pods: docs/observability.md), never object data:
    // no Secret (not even its name), no env value, nothing an agent chose.
    for (const word of ['db-password', 'Evil', 'skiff_owned', 'x-secret-value']) expect(text, word).not.toContain(word);
    n1.end(true);
  });
});

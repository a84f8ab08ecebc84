/**
 * Issue 9, item 5: ghost node credentials. Anyone with the join token could mint credentials under unused names
 * that `skiff get nodes` never showed and `skiff delete node` could not revoke, and they survived a join-token
 * rotation. Replayed against a real master: every join creates a visible Node at once; deleting it revokes the
 * credential; rotating the join token stops the old token and never revives what was revoked; joins are
 * rate-limited; a credential left without a Node is revoked at the next start.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../cli/main.js';
import { connectApi } from '../../cli/client.js';
import type { Api } from '../../cli/types.js';
import { startMaster, type Master } from '../../master/index.js';
import { KeyedBuckets, TokenBucket } from '../../master/ratelimit.js';
import { connectKey } from '../../protocol/join.js';
import { joinSecret } from '../../protocol/join-token.js';
import type { Node } from '../../protocol/index.js';
import { testEngine } from '../helpers/cluster.js';
import { joinAs } from '../helpers/join.js';
import { tempDir } from '../helpers/wait.js';
import { rawConnect } from './helpers.js';

/** Can `user` log in with `password` (CONNACK 0)? */
const canLogin = async (m: Master, user: string, password: string) => (await rawConnect(m.mqttPort, { clientId: `probe-${Math.random().toString(36).slice(2)}`, username: user, password })) === 0;

describe('every node credential has a visible, revocable Node (issue 9, item 5)', () => {
  let master: Master;
  let admin: Api;
  let dir: string;
  const startOpts = () => ({ dataDir: join(dir, 'm'), mqttPort: 0, httpPort: -1, mqttHost: '127.0.0.1', quiet: true, engine: testEngine, joinRatePerSource: { burst: 5, perMinute: 1 } });
  const node = (name: string) => admin.request<Node>('get', { kind: 'Node', name });
  const cli = async (...args: string[]) => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await main(['--server', master.url, '--token', master.adminToken, ...args], { stdout: (s) => void out.push(s), stderr: (s) => void err.push(s), readStdin: async () => '', env: {} });
    return { code, out: out.join(''), err: err.join('') };
  };

  beforeAll(async () => {
    dir = await tempDir();
    master = await startMaster(startOpts());
    admin = await connectApi({ server: master.url, user: 'admin', token: master.adminToken, timeoutMs: 5000 });
  });
  afterAll(async () => {
    await admin?.close();
    await master?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('a join under an unused name shows up at once in get nodes (NotReady) and in token list --nodes', async () => {
    const credential = await joinAs(master.url, master.joinToken, 'ghost-1', { labels: { zone: 'attic' } });
    const n = await node('ghost-1');
    expect(n.metadata.labels).toMatchObject({ zone: 'attic', 'kubernetes.io/hostname': 'ghost-1' });
    expect(n.status?.conditions?.find((c) => c.type === 'Ready')).toMatchObject({ status: 'Unknown', reason: 'NodeStatusNeverUpdated' });
    expect((await cli('get', 'nodes')).out).toMatch(/^ghost-1\s+Unknown\s/m);
    const listed = await cli('token', 'list', '--nodes');
    expect(listed.out).toMatch(/^NODE\s+ISSUED\s+NODE STATUS\nghost-1\s+\d+s\s+NotReady\n$/);
    expect(await canLogin(master, 'ghost-1', credential)).toBe(true);
  });

  it('delete node revokes the credential; rotating the join token stops the old token and revives nothing', async () => {
    const ghost = await joinAs(master.url, master.joinToken, 'ghost-2');
    const kept = await joinAs(master.url, master.joinToken, 'kept-1');
    expect((await cli('delete', 'node', 'ghost-2')).code).toBe(0);
    expect(await canLogin(master, 'ghost-2', ghost)).toBe(false);
    expect((await cli('token', 'list', '--nodes')).out).not.toContain('ghost-2');

    const oldToken = master.joinToken;
    const rotated = await cli('token', 'rotate-join');
    expect(rotated.code).toBe(0);
    const newToken = rotated.out.trim();
    expect(newToken).toMatch(/^skiff1:sha256:[0-9a-f]{64}::[A-Za-z0-9_-]{43}$/);
    expect(newToken).not.toBe(oldToken);
    expect(master.joinToken).toBe(newToken);
    expect(await canLogin(master, 'anyone', connectKey(joinSecret(oldToken)))).toBe(false);
    await expect(joinAs(master.url, oldToken, 'ghost-3', { joinTimeoutMs: 3000 })).rejects.toMatchObject({ code: 'SKIFF_ERR_UNAUTHORIZED' });
    expect(await canLogin(master, 'ghost-2', ghost)).toBe(false); // revoked stays revoked
    expect(await canLogin(master, 'kept-1', kept)).toBe(true); // joined nodes keep working
    await joinAs(master.url, newToken, 'after-rotation');
    expect((await node('after-rotation')).metadata.name).toBe('after-rotation');
  });

  it('joins from one source are rate-limited: the refused ones create nothing', async () => {
    const before = (await admin.request<{ items: Node[] }>('list', { kind: 'Node' })).items.length;
    // The bucket holds 5 (burst) and refills 1 a minute: 4 joins so far in this file, so one more passes.
    await joinAs(master.url, master.joinToken, 'burst-1');
    await expect(joinAs(master.url, master.joinToken, 'burst-2', { joinTimeoutMs: 3000 })).rejects.toMatchObject({ code: 'SKIFF_ERR_UNAVAILABLE', message: expect.stringContaining('too many joins (from 127.0.0.1)') });
    const after = (await admin.request<{ items: Node[] }>('list', { kind: 'Node' })).items.map((n) => n.metadata.name);
    expect(after.length).toBe(before + 1);
    expect(after).not.toContain('burst-2');
  });

  it('a credential whose Node was removed behind its back is revoked at the next start', async () => {
    const credential = await rawCredentialOrphan();
    await admin.close();
    await master.stop();
    master = await startMaster({ ...startOpts(), joinRatePerSource: { burst: 100, perMinute: 100 } });
    admin = await connectApi({ server: master.url, user: 'admin', token: master.adminToken, timeoutMs: 5000 });
    expect(await canLogin(master, 'orphan-1', credential)).toBe(false);
    expect((await cli('token', 'list', '--nodes')).out).not.toContain('orphan-1');
  });

  /** Joins orphan-1 then deletes its Node in the store directly (as a crash between delete and revoke would leave it). */
  async function rawCredentialOrphan(): Promise<string> {
    await master.stop();
    master = await startMaster({ ...startOpts(), joinRatePerSource: { burst: 100, perMinute: 100 } });
    await admin.close();
    admin = await connectApi({ server: master.url, user: 'admin', token: master.adminToken, timeoutMs: 5000 });
    const credential = await joinAs(master.url, master.joinToken, 'orphan-1');
    await master.objects.delete('Node', undefined, 'orphan-1', { force: true });
    expect(await canLogin(master, 'orphan-1', credential)).toBe(true);
    return credential;
  }
});

describe('token buckets', () => {
  it('give a burst, then one per refill period, and say how long to wait', () => {
    const b = new TokenBucket({ burst: 2, perMinute: 60 }, 0);
    expect([b.take(0), b.take(0), b.take(0)]).toEqual([0, 0, 1000]);
    expect(b.take(999)).toBeGreaterThan(0); // 1 ms left (give or take rounding)
    expect(b.take(999)).toBeLessThanOrEqual(2);
    expect(b.take(1000)).toBe(0);
  });

  it('keep at most maxKeys sources (least recently used dropped)', () => {
    const k = new KeyedBuckets({ burst: 1, perMinute: 0 }, 3);
    for (const ip of ['a', 'b', 'c', 'a', 'd', 'e']) k.take(ip, 0);
    expect(k.size).toBe(3);
    expect(k.take('a', 0)).toBe(Infinity); // 'a' was used recently: still tracked, and empty
  });
});


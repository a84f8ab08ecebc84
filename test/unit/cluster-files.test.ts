/**
 * The cluster's shared files through the store (master/ha/cluster-files.ts, `--upload-certs` / `--certificate-key`):
 * sealed with AES-256-GCM under a key kept nowhere; the right key writes them 0600; a wrong, malformed or expired key,
 * a tampered record or a data dir that already has them is refused before anything is written.
 */
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CLUSTER_FILES_KEY, clusterFiles, deleteExpiredUpload, downloadClusterFiles, UPLOAD_TTL_MS, uploadClusterFiles } from '../../master/ha/cluster-files.js';
import { loadOrCreateCa } from '../../master/tls/ca.js';
import { openSqliteStore } from '../../master/store/sqlite.js';
import type { Store } from '../../master/store/types.js';
import { formatJoinToken } from '../../protocol/join-token.js';
import { tempDir } from '../helpers/wait.js';

describe('cluster files through the store', () => {
  let dir: string;
  let store: Store;
  let from: string;
  const fresh = (n: string) => join(dir, n);

  beforeEach(async () => {
    dir = await tempDir('skiff-cluster-files-');
    from = join(dir, 'm1');
    mkdirSync(from, { recursive: true });
    const ca = await loadOrCreateCa(from);
    writeFileSync(join(from, 'admin.token'), 'admin-secret\n');
    writeFileSync(join(from, 'join.token'), formatJoinToken(ca.hash, 'a'.repeat(43)) + '\n');
    writeFileSync(join(from, 'encryption-config.json'), '{"keys":[]}\n');
    store = await openSqliteStore(join(dir, 'store.db'));
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the printed key fetches every file, byte for byte, 0600', async () => {
    const { key, expiresAt } = await uploadClusterFiles(store, from);
    expect(key).toMatch(/^[0-9a-f]{64}$/);
    expect(Date.parse(expiresAt) - Date.now()).toBeGreaterThan(UPLOAD_TTL_MS - 60_000);
    // Nothing secret in clear in the store.
    const stored = JSON.stringify((await store.get(CLUSTER_FILES_KEY))!.value);
    expect(stored).not.toContain('admin-secret');
    expect(stored).not.toContain(Buffer.from('admin-secret').toString('base64'));
    expect(await downloadClusterFiles(store, fresh('m2'), key)).toEqual([...clusterFiles]);
    for (const f of clusterFiles) {
      expect(readFileSync(join(fresh('m2'), f))).toEqual(readFileSync(join(from, f)));
      expect(statSync(join(fresh('m2'), f)).mode & 0o777).toBe(0o600);
    }
  });

  it.each([
    ['a wrong key', async () => '0'.repeat(64), /the key does not open the uploaded cluster files/],
    ['a malformed key', async () => 'xyz', /must be 64 hexadecimal digits/],
    ['a key of an earlier upload', async (key: string) => (await uploadClusterFiles(store, from), key), /does not open/],
  ])('%s is refused, nothing written', async (_what, keyOf, error) => {
    const { key } = await uploadClusterFiles(store, from);
    await expect(downloadClusterFiles(store, fresh('m2'), await keyOf(key))).rejects.toThrow(error);
    expect(existsSync(fresh('m2'))).toBe(false);
  });

  it('an expired upload is refused and deleted; deleteExpiredUpload deletes only what expired', async () => {
    const { key } = await uploadClusterFiles(store, from);
    expect(await deleteExpiredUpload(store)).toBe(false);
    await expect(downloadClusterFiles(store, fresh('m2'), key, Date.now() + UPLOAD_TTL_MS + 1)).rejects.toThrow(/expired at/);
    expect(await store.get(CLUSTER_FILES_KEY)).toBeUndefined();
    await expect(downloadClusterFiles(store, fresh('m2'), key)).rejects.toThrow(/holds no uploaded cluster files/);
    await uploadClusterFiles(store, from);
    expect(await deleteExpiredUpload(store, Date.now() + UPLOAD_TTL_MS + 1)).toBe(true);
  });

  it('a record whose expiry was moved (tampered) does not open', async () => {
    const { key } = await uploadClusterFiles(store, from);
    const cur = (await store.get<Record<string, unknown>>(CLUSTER_FILES_KEY))!;
    await store.update(CLUSTER_FILES_KEY, { ...cur.value, expiresAt: new Date(Date.now() + 10 * UPLOAD_TTL_MS).toISOString() });
    await expect(downloadClusterFiles(store, fresh('m2'), key)).rejects.toThrow(/does not open/);
  });

  it('a data dir that already has cluster files is refused', async () => {
    const { key } = await uploadClusterFiles(store, from);
    mkdirSync(fresh('m2'));
    writeFileSync(join(fresh('m2'), 'admin.token'), 'mine\n');
    await expect(downloadClusterFiles(store, fresh('m2'), key)).rejects.toThrow(/already has admin.token/);
    expect(readFileSync(join(fresh('m2'), 'admin.token'), 'utf8')).toBe('mine\n');
  });

  it('a CA whose key is not its own is refused', async () => {
    const other = join(dir, 'other');
    mkdirSync(other);
    await loadOrCreateCa(other);
    writeFileSync(join(from, 'tls', 'ca.key'), readFileSync(join(other, 'tls', 'ca.key')));
    const { key } = await uploadClusterFiles(store, from);
    await expect(downloadClusterFiles(store, fresh('m2'), key)).rejects.toThrow(/tls\/ca.key is not the key of tls\/ca.crt/);
    expect(existsSync(fresh('m2'))).toBe(false);
  });
});

/**
 * Issue 13: Secrets sealed at rest. A Secret with a known value is created through the API of a real master;
 * then every byte of every file in its data dir (skiff.db, its WAL and shared memory, the audit log, the
 * encryption config...) is searched for the value, plain and base64: nothing. Again after `skiff secrets
 * rotate-key`, which leaves only the new key in the config; again after a restart, and the value still reads
 * back. A data dir whose encryption config went missing refuses to start, naming the file. On etcd (when the
 * etcd binary is there), the member's data dir holds no plaintext either.
 */
import { readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectApi } from '../../cli/client.js';
import { main } from '../../cli/main.js';
import type { Api } from '../../cli/types.js';
import { startMaster, type Master } from '../../master/index.js';
import { encryptionConfigFile } from '../../master/secrets/keys.js';
import { testEngine } from '../helpers/cluster.js';
import { haveEtcd, startEtcd, type EtcdCluster } from '../helpers/etcd.js';
import { tempDir } from '../helpers/wait.js';

/** A value no file could hold by chance, and its base64 form (how a Secret's data holds it). */
const needle = 'Greenhouse-Door-Code-7f3a9c1e';
const needle64 = Buffer.from(needle).toString('base64');
const manifest = `apiVersion: v1\nkind: Secret\nmetadata: {name: door}\nstringData: {code: ${needle}}\n`;

/** Every regular file under `dir`, recursively. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => (d.isDirectory() ? filesUnder(join(dir, d.name)) : d.isFile() ? [join(dir, d.name)] : []));
}

/** The files under `dir` whose bytes hold the needle, plain or base64. */
function leaks(dir: string): string[] {
  return filesUnder(dir).filter((f) => {
    const b = readFileSync(f);
    return b.includes(needle) || b.includes(needle64);
  });
}

const base = { mqttPort: 0, httpPort: -1, mqttHost: '127.0.0.1', quiet: true, engine: testEngine, mdns: false } as const;

describe('Secrets sealed at rest (SQLite)', () => {
  let dir: string;
  let master: Master;
  let admin: Api;

  beforeAll(async () => {
    dir = await tempDir('skiff-sealed-');
    master = await startMaster({ ...base, dataDir: join(dir, 'm') });
    admin = await connectApi({ server: master.url, user: 'admin', token: master.adminToken, timeoutMs: 10_000 });
  });
  afterAll(async () => {
    await admin?.close();
    await master?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const code = async (api: Api) => Buffer.from((await api.request<{ data: Record<string, string> }>('get', { kind: 'Secret', name: 'door' })).data.code, 'base64').toString();

  it('no file of the data dir holds the value, before or after a key rotation; the value reads back', async () => {
    await admin.request('apply', { manifest });
    await admin.request('apply', { manifest: manifest.replace('{code:', '{other: x, code:') }); // an update: old and new versions in the WAL and history
    expect(await code(admin)).toBe(needle);
    expect(filesUnder(join(dir, 'm')).map((f) => f.slice(join(dir, 'm').length + 1))).toEqual(expect.arrayContaining(['skiff.db', 'skiff.db-wal', encryptionConfigFile, 'audit.log']));
    expect(leaks(join(dir, 'm'))).toEqual([]);
    const keyBefore = readFileSync(join(dir, 'm', encryptionConfigFile), 'utf8');

    const out: string[] = [];
    const io = { stdout: (s: string) => void out.push(s), stderr: (s: string) => void out.push(s), readStdin: async () => '', env: {} };
    expect(await main(['--server', master.url, '--token', master.adminToken, 'secrets', 'rotate-key'], io)).toBe(0);
    expect(out.join('')).toBe('secrets sealed with key "key2": 1 of 1 re-sealed; dropped "key1"\n');
    expect(leaks(join(dir, 'm'))).toEqual([]);
    const config = JSON.parse(readFileSync(join(dir, 'm', encryptionConfigFile), 'utf8'));
    expect(config.resources[0].providers[0].aesgcm.keys.map((k: { name: string }) => k.name)).toEqual(['key2']);
    const oldKey = JSON.parse(keyBefore).resources[0].providers[0].aesgcm.keys[0].secret as string;
    expect(readFileSync(join(dir, 'm', encryptionConfigFile), 'utf8')).not.toContain(oldKey);
    expect(statSync(join(dir, 'm', encryptionConfigFile)).mode & 0o777).toBe(0o600);
    expect(await code(admin)).toBe(needle);
  });

  it('after a restart the Secret reads back; without its encryption config the master refuses to start', async () => {
    await admin.close();
    await master.stop();
    master = await startMaster({ ...base, dataDir: join(dir, 'm') });
    admin = await connectApi({ server: master.url, user: 'admin', token: master.adminToken, timeoutMs: 10_000 });
    expect(await code(admin)).toBe(needle);
    expect(leaks(join(dir, 'm'))).toEqual([]);
    await admin.close();
    await master.stop();
    rmSync(join(dir, 'm', encryptionConfigFile));
    await expect(startMaster({ ...base, dataDir: join(dir, 'm') })).rejects.toThrow(/\/registry\/secrets\/default\/door: sealed (with key "key2", which .* does not list|value does not authenticate)/);
  });
});

describe.skipIf(!haveEtcd)('Secrets sealed at rest (etcd)', () => {
  let dir: string;
  let etcd: EtcdCluster;
  let master: Master;

  beforeAll(async () => {
    dir = await tempDir('skiff-sealed-etcd-');
    etcd = await startEtcd();
    master = await startMaster({ ...base, dataDir: join(dir, 'm'), store: etcd.storeUrl('/sealed') });
  });
  afterAll(async () => {
    await master?.stop();
    await etcd?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it("no file of the etcd member's data dir holds the value; the master reads it back", async () => {
    const admin = await connectApi({ server: master.url, user: 'admin', token: master.adminToken, timeoutMs: 10_000 });
    try {
      await admin.request('apply', { manifest });
      const got = await admin.request<{ data: Record<string, string> }>('get', { kind: 'Secret', name: 'door' });
      expect(Buffer.from(got.data.code, 'base64').toString()).toBe(needle);
      expect(leaks(etcd.members[0].dataDir)).toEqual([]);
      expect(leaks(join(dir, 'm'))).toEqual([]);
    } finally {
      await admin.close();
    }
  });
});

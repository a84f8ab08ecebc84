/**
 * The state of a running master, end to end in-process: `skiff master --store etcd://...` runs on a
 * real etcd; `skiff backup FILE` takes an online backup over the API (admin only); the file restores
 * into a new data dir whose master serves the same objects at the same resourceVersions; a second
 * master on the same etcd root sees the first one's objects; scheduled backups appear and are pruned.
 */
import { existsSync, readdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectApi } from '../../cli/client.js';
import { main as cli } from '../../cli/main.js';
import type { Api } from '../../cli/types.js';
import { startMaster, type Master } from '../../master/index.js';
import type { SealedStore } from '../../master/secrets/sealed-store.js';
import { main as tools } from '../../master/state-tools.js';
import { readBackup } from '../../master/store/backup.js';
import type { KObject } from '../../protocol/index.js';
import { testEngine } from '../helpers/cluster.js';
import { haveEtcd, startEtcd, type EtcdCluster } from '../helpers/etcd.js';
import { eventually, tempDir } from '../helpers/wait.js';

const base = { mqttPort: 0, httpPort: -1, mqttHost: '127.0.0.1', quiet: true, engine: testEngine, mdns: false } as const;
const cm = (name: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ${name}}\ndata: {a: "1"}\n`;

function io() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { stdout: (s: string) => void out.push(s), stderr: (s: string) => void err.push(s), readStdin: async () => '', env: {} } };
}

async function configMaps(api: Api): Promise<[string, string | undefined][]> {
  const { items } = await api.request<{ items: KObject[] }>('list', { kind: 'ConfigMap', namespace: 'default' });
  return items.map((o) => [o.metadata.name, o.metadata.resourceVersion] as [string, string | undefined]).sort();
}

describe.skipIf(!haveEtcd)('a master on etcd: online backup, restore elsewhere, a second master', () => {
  let etcd: EtcdCluster;
  let dir: string;
  let master: Master;
  let api: Api;

  beforeAll(async () => {
    etcd = await startEtcd();
    dir = await tempDir('skiff-state-');
    master = await startMaster({ ...base, dataDir: join(dir, 'm1'), store: etcd.storeUrl('/prod') });
    api = await connectApi({ server: master.url, user: 'admin', token: master.adminToken, timeoutMs: 10_000 });
    for (const n of ['a', 'b', 'c']) await api.request('apply', { manifest: cm(n) });
  });
  afterAll(async () => {
    await api?.close();
    await master?.stop();
    await etcd?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps its objects in etcd under the root, and a second master on the same root serves them', async () => {
    // Beneath the wrapper that seals Secrets (master/secrets/sealed-store.ts).
    expect((master.store as SealedStore).inner.constructor.name).toBe('EtcdStore');
    const second = await startMaster({ ...base, dataDir: join(dir, 'm2'), store: etcd.storeUrl('/prod') });
    const api2 = await connectApi({ server: second.url, user: 'admin', token: second.adminToken, timeoutMs: 10_000 });
    try {
      expect(await configMaps(api2)).toEqual(await configMaps(api));
    } finally {
      await api2.close();
      await second.stop();
    }
  });

  it('skiff backup FILE takes an online backup at one revision; restored into a new data dir, a master serves the same objects', async () => {
    const file = join(dir, 'online.jsonl.gz');
    const c = io();
    expect(await cli(['--server', master.url, '--token', master.adminToken, 'backup', file], c.io)).toBe(0);
    const revision = await master.store.revision();
    expect(c.out.join('')).toMatch(/^backup: .*online\.jsonl\.gz: \d+ keys at revision \d+, \d+ bytes\n$/);
    const { header } = readBackup(file);
    expect(header).toMatchObject({ store: 'etcd', keys: (await master.store.list('')).entries.length });
    expect(header.revision).toBeLessThanOrEqual(revision);

    const restored = join(dir, 'restored');
    const t = io();
    expect(await tools(['restore', file, '--data-dir', restored], t.io)).toBe(0);
    const third = await startMaster({ ...base, dataDir: restored });
    const api3 = await connectApi({ server: third.url, user: 'admin', token: third.adminToken, timeoutMs: 10_000 });
    try {
      // SQLite keeps each key's revisions: the same resourceVersions as on etcd.
      expect(await configMaps(api3)).toEqual(await configMaps(api));
      expect(await third.store.revision()).toBeGreaterThanOrEqual(header.revision);
    } finally {
      await api3.close();
      await third.stop();
    }
  });

  it('refuses backup to a token without admin access', async () => {
    const { token } = await api.request<{ token: string }>('token', { action: 'create', name: 'viewer', access: 'edit' });
    const c = io();
    expect(await cli(['--server', master.url, '--user', 'viewer', '--token', token, 'backup', join(dir, 'no.gz')], c.io)).toBe(1);
    expect(c.err.join('')).toMatch(/user "viewer" \(edit access\) may not backup/);
    expect(existsSync(join(dir, 'no.gz'))).toBe(false);
  });
});

describe('scheduled backups', () => {
  it('skiff master --backup-schedule writes backups into --backup-dir and keeps the newest --backup-keep', async () => {
    const dir = await tempDir('skiff-sched-');
    const backups = join(dir, 'backups');
    // Every second (node-cron's six-field form), keep two.
    const master = await startMaster({ ...base, dataDir: join(dir, 'm'), backupSchedule: '* * * * * *', backupDir: backups, backupKeep: 2 });
    try {
      const files = () => (existsSync(backups) ? readdirSync(backups).filter((f) => f.endsWith('.jsonl.gz')) : []);
      await eventually(() => files().length >= 1, 'a first scheduled backup');
      const first = files()[0]!;
      expect(first).toMatch(/^skiff-backup-\d{8}T\d{6}Z-r\d+\.jsonl\.gz$/);
      expect(readBackup(join(backups, first)).header.store).toBe('sqlite');
      await eventually(() => files().length === 2 && !files().includes(first) && files(), 'the oldest pruned after a third run', 10_000);
    } finally {
      await master.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

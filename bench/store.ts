/**
 * The two stores side by side on this machine's disk: the embedded SQLite (WAL, each batch fsynced before its ack)
 * and etcd 3.4 (one member, Debian's etcd-server, started here on loopback). Latency of create,
 * update (with the expected modRevision), get and a 2,000-key list, parallel create throughput,
 * and the write volume per object write (bytes the writing process sent to the disk, from
 * /proc/PID/io: this process for SQLite, the etcd server for etcd).
 *   npm run bench:store            (no build needed)
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openEtcdStore } from '../master/store/etcd.js';
import { parseStoreUrl, type EtcdLocation } from '../master/store/location.js';
import { openSqliteStore } from '../master/store/sqlite.js';
import type { Store } from '../master/store/types.js';
import { haveEtcd, startEtcd } from '../test/helpers/etcd.js';

const objects = 2000;
const pod = (i: number) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: `web-${i}`, namespace: 'default', uid: `0f6c2d3e-${String(i).padStart(4, '0')}-4c1e-9d1a-2b7f5e8c9a01`, labels: { app: 'web' } },
  spec: { nodeName: 'pi-1', containers: [{ name: 'web', image: 'nginx', resources: { requests: { cpu: '100m', memory: '64Mi' } } }] },
  status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] },
});
const podBytes = JSON.stringify(pod(0)).length;

/** One store's figures. */
type Figures = Record<string, number>;

/** Disk writes of a process so far (/proc/PID/io: write_bytes reach the block layer, wchar all write() calls). */
function io(pid: number | 'self'): { disk: number; wchar: number } {
  const text = readFileSync(`/proc/${pid}/io`, 'utf8');
  const field = (name: string) => Number(new RegExp(`^${name}: (\\d+)$`, 'm').exec(text)?.[1] ?? NaN);
  return { disk: field('write_bytes'), wchar: field('wchar') };
}

// Awaited calls one after another; returns each call's latency in ms.
async function latencies(count: number, fn: (i: number) => Promise<unknown>): Promise<number[]> {
  const ms: number[] = [];
  for (let i = 0; i < count; i++) {
    const t = process.hrtime.bigint();
    await fn(i);
    ms.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  return ms;
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const p99 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.99)]!;

async function measure(s: Store, pid: number | 'self'): Promise<Figures> {
  const f: Figures = {};
  const before = io(pid);
  const creates = await latencies(objects, (i) => s.create(`/registry/pods/default/web-${i}`, pod(i)));
  const after = io(pid);
  f['create mean ms'] = mean(creates);
  f['create p99 ms'] = p99(creates);
  f['disk bytes per create'] = (after.disk - before.disk) / objects;
  f['write() bytes per create'] = (after.wchar - before.wchar) / objects;
  const updates = await latencies(objects, async (i) => {
    const e = (await s.get(`/registry/pods/default/web-${i}`))!;
    return s.update(e.key, { ...pod(i), status: { phase: 'Succeeded' } }, e.modRevision);
  });
  f['get + update mean ms'] = mean(updates);
  f['get + update p99 ms'] = p99(updates);
  const gets = await latencies(5000, (i) => s.get(`/registry/pods/default/web-${i % objects}`));
  f['get mean ms'] = mean(gets);
  f['get p99 ms'] = p99(gets);
  const lists = await latencies(20, () => s.list('/registry/pods/'));
  f[`list ${objects} keys mean ms`] = mean(lists);
  const start = process.hrtime.bigint();
  let next = 0;
  await Promise.all(Array.from({ length: 16 }, async () => {
    while (next < objects) await s.create(`/registry/configmaps/default/cm-${next++}`, pod(0));
  }));
  f['create, 16 in flight, ops/s'] = (objects * 1e9) / Number(process.hrtime.bigint() - start);
  return f;
}

const dir = mkdtempSync(join(tmpdir(), 'skiff-bench-store-'));
try {
  console.log(`store bench: ${objects} pods of ${podBytes} bytes of JSON; every write acknowledged only once durable`);
  const sqlite = await openSqliteStore(join(dir, 'skiff.db'));
  const results: [string, Figures][] = [['sqlite', await measure(sqlite, 'self')]];
  await sqlite.close();
  if (haveEtcd) {
    const etcd = await startEtcd();
    try {
      const s = await openEtcdStore(parseStoreUrl(etcd.storeUrl()) as EtcdLocation);
      results.push(['etcd', await measure(s, etcd.members[0]!.process.pid!)]);
      await s.close();
    } finally {
      await etcd.stop();
    }
  } else console.log('(etcd-server is not installed: SQLite only)');
  const rows = Object.keys(results[0]![1]);
  console.log(['', ...results.map(([n]) => n), results.length > 1 ? 'etcd/sqlite' : ''].map((c, i) => (i === 0 ? c.padEnd(30) : c.padStart(12))).join(''));
  for (const row of rows) {
    const vals = results.map(([, f]) => f[row]!);
    const cells = vals.map((v) => (v >= 100 ? Math.round(v).toString() : v.toFixed(3)));
    const ratio = vals.length > 1 ? `${(vals[1]! / vals[0]!).toFixed(2)}×` : '';
    console.log([row.padEnd(30), ...cells.map((c) => c.padStart(12)), ratio.padStart(12)].join(''));
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

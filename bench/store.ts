/**
 * Store throughput on this disk: sequential acknowledged writes (each one fsynced: WAL +
 * synchronous=FULL), reads, a prefix list and watch fan-out. Run without a build:
 *   node --import ./test/store/register-ts.mjs bench/store.ts [DIR]
 * or after `npm run build:ts`: node dist/bench/store.js [DIR]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteStore } from '../master/store/sqlite.js';

const dir = mkdtempSync(join(process.argv[2] ?? tmpdir(), 'skiff-bench-store-'));
const pod = { kind: 'Pod', metadata: { name: 'web-0', namespace: 'default', labels: { app: 'web' } }, spec: { nodeName: 'pi-1', containers: [{ name: 'web', image: 'nginx' }] }, status: { phase: 'Running' } };

// Times `count` awaited calls of `fn`, then `drain` (e.g. waiting for watch deliveries).
async function timed(label: string, count: number, fn: (i: number) => Promise<unknown>, drain?: () => Promise<void>): Promise<void> {
  const start = process.hrtime.bigint();
  for (let i = 0; i < count; i++) await fn(i);
  await drain?.();
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  console.log(`${label.padEnd(44)} ${count.toString().padStart(6)} ops  ${(ms / count).toFixed(3).padStart(7)} ms/op  ${Math.round((count * 1000) / ms).toString().padStart(7)} ops/s`);
}

try {
  for (const [name, path] of [['file (WAL, synchronous=FULL)', join(dir, 'store.db')], [':memory:', ':memory:']] as const) {
    console.log(`-- ${name}`);
    const s = await openSqliteStore(path);
    await timed('create (a transaction each; a file fsyncs)', 2000, (i) => s.create(`/registry/pods/default/web-${i}`, { ...pod, n: i }));
    await timed('update with expected modRevision', 2000, async (i) => {
      const e = (await s.get(`/registry/pods/default/web-${i}`))!;
      return s.update(e.key, { ...pod, n: -i }, e.modRevision);
    });
    await timed('get', 20000, (i) => s.get(`/registry/pods/default/web-${i % 2000}`));
    await timed('list 2000 keys by prefix', 20, () => s.list('/registry/pods/'));
    let seen = 0;
    const watches = Array.from({ length: 10 }, () => s.watch('/registry/', undefined, () => seen++));
    await timed(
      'create, 10 watchers (until all delivered)',
      1000,
      (i) => s.create(`/registry/nodes/n-${i}`, pod),
      async () => {
        while (seen < 10_000) await new Promise((r) => setImmediate(r));
      },
    );
    for (const w of watches) w.close();
    await s.close();
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

/**
 * A real `skiff master --store etcd://...` process killed with SIGKILL in the middle of a burst of
 * applies: every apply the master acknowledged is in etcd, and a master started again on the same
 * root (and data dir) serves them all.
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectApi } from '../../cli/client.js';
import type { Api } from '../../cli/types.js';
import type { KObject } from '../../protocol/index.js';
import { testEngine } from '../helpers/cluster.js';
import { haveEtcd, startEtcd, type EtcdCluster } from '../helpers/etcd.js';
import { freePort, requireBuild, skiffBin, startProcess, stopProcess } from '../helpers/procs.js';
import { eventually, tempDir } from '../helpers/wait.js';

describe.skipIf(!haveEtcd)('e2e: a master on etcd killed with SIGKILL mid-burst', () => {
  let etcd: EtcdCluster;
  let dir: string;
  let master: ChildProcess | undefined;

  async function start(): Promise<{ proc: ChildProcess; api: Api }> {
    const port = await freePort();
    const cfg = join(dir, 'master', 'config.json');
    await rm(cfg, { force: true });
    const proc = startProcess(
      [skiffBin, 'master', '--data-dir', join(dir, 'master'), '--store', etcd.storeUrl('/burst'), '--mqtt-port', String(port), '--mqtts-port', '0', '--http-port=-1', '--bind', '127.0.0.1', '--no-mdns', '--engine', testEngine, '--pod-security-default', 'privileged'],
      join(dir, 'master.log'),
    );
    await eventually(() => existsSync(cfg), 'the master to write its client config', 20_000);
    const token = (await readFile(join(dir, 'master', 'admin.token'), 'utf8')).trim();
    return { proc, api: await connectApi({ server: `mqtt://127.0.0.1:${port}`, user: 'admin', token, timeoutMs: 10_000 }) };
  }

  beforeAll(async () => {
    requireBuild();
    etcd = await startEtcd();
    dir = await tempDir('skiff-e2e-etcd-');
  });
  afterAll(async () => {
    if (master) await stopProcess(master);
    await etcd?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('keeps every acknowledged apply', async () => {
    const first = await start();
    master = first.proc;
    const acked: string[] = [];
    // Four writers in flight; the master is killed once 60 applies were acknowledged.
    const writer = async (w: number) => {
      for (let i = 0; ; i++) {
        const name = `cm-${w}-${i}`;
        try {
          await first.api.request('apply', { manifest: `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ${name}}\ndata: {i: "${i}"}\n` });
        } catch {
          return; // the master is gone
        }
        acked.push(name);
        if (acked.length === 60) first.proc.kill('SIGKILL');
      }
    };
    await Promise.all([0, 1, 2, 3].map(writer));
    expect(first.proc.signalCode ?? (await new Promise((r) => first.proc.once('exit', (_c, s) => r(s))))).toBe('SIGKILL');
    await first.api.close().catch(() => undefined);
    expect(acked.length).toBeGreaterThanOrEqual(60);

    const second = await start();
    master = second.proc;
    try {
      const { items } = await second.api.request<{ items: KObject[] }>('list', { kind: 'ConfigMap', namespace: 'default' });
      const present = new Set(items.map((o) => o.metadata.name));
      expect(acked.filter((n) => !present.has(n))).toEqual([]);
    } finally {
      await second.api.close();
    }
  }, 90_000);
});

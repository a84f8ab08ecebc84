/**
 * mqtt-packet's 65,536-Buffer number cache is never made (master/broker/number-cache.ts in the master; mqtt.js's
 * `writeCache: false` in the agent and the CLI): not in a real `skiff master` that answered an API client and an
 * agent, not in a `skiff get`, not in a `skiff-agent join` that ran until Ready. Each process is preloaded with
 * test/fixtures/mqtt-number-cache.mjs, which writes the cache's size at exit; a plain node process that writes one
 * packet shows the probe sees a filled cache.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { startAgentProc, stopProc } from '../../bench/cluster-selfheal.js';
import type { Node } from '../../protocol/index.js';
import { startMasterProcess, type MasterProcess } from '../helpers/master-process.js';
import { requireBuild, root, skiff } from '../helpers/procs.js';
import { eventually, tempDir } from '../helpers/wait.js';

const probe = pathToFileURL(join(root, 'test', 'fixtures', 'mqtt-number-cache.mjs')).href;

describe("mqtt-packet's number cache", () => {
  let dir = '';
  let master: MasterProcess | undefined;
  afterAll(async () => {
    await master?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('is not made by the master, the CLI or the agent', async () => {
    requireBuild();
    dir = await tempDir('skiff-numcache-');
    const out = join(dir, 'out');
    mkdirSync(out);
    const env = { NODE_OPTIONS: `--import ${probe}`, SKIFF_NUMCACHE_DIR: out };
    const before = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
    Object.assign(process.env, env); // the children below inherit it
    let agent;
    try {
      // The control: a process that writes a packet with mqtt-packet as it comes fills the cache, and the probe sees it.
      execFileSync(process.execPath, ['-e', "require('mqtt-packet').generate({ cmd: 'puback', messageId: 7 })"], { cwd: root, env: process.env });
      master = await startMasterProcess(join(dir, 'master'));
      const got = await skiff(['--config', join(dir, 'master', 'config.json'), 'get', 'nodes']);
      expect(got.code, got.stderr).toBe(0);
      agent = startAgentProc({ master: master.url, token: master.joinToken, name: 'pi-1', dataDir: join(dir, 'pi-1'), address: '127.0.0.1' }, join(dir, 'pi-1.log'));
      await eventually(async () => ((await master!.api.request<{ items: Node[] }>('list', { kind: 'Node' })).items.find((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'))), 'pi-1 Ready', 30_000, 100);
    } finally {
      for (const [k, v] of Object.entries(before)) if (v === undefined) delete process.env[k];
      else process.env[k] = v;
      await stopProc(agent);
      await master?.stop();
      master = undefined;
    }
    const seen = readdirSync(out).map((f) => JSON.parse(readFileSync(join(out, f), 'utf8')) as { argv: string[]; cached: number });
    const which = (p: { argv: string[] }) => (p.argv.length === 0 ? 'control' : p.argv.includes('master') ? 'master' : p.argv.includes('get') ? 'cli' : p.argv.includes('join') ? 'agent' : p.argv.join(' '));
    const sizes = Object.fromEntries(seen.map((p) => [which(p), p.cached]));
    expect(sizes).toMatchObject({ control: 65536, master: 0, cli: 0, agent: 0 });
  }, 90_000);
});

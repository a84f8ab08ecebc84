/**
 * A fleet upgrade over MQTT with real agent processes (docs/edge.md, "Fleet upgrade"): three agents run from
 * bundle copies — x86 unsupervised (it re-executes itself), x86 under a systemd-like supervisor, and Debian's
 * node on emulated arm64 under that supervisor (the way a board's systemd runs it) — each with a DaemonSet pod.
 * `skiff nodes upgrade --all` to a bundle with a new version: every node reports it, the CLI prints each node's
 * progress within --max-unavailable, and the pods keep their pids. Then a bundle that cannot start is rolled
 * back: the node keeps its version, reports AgentUpgrade=False/RolledBack, and the CLI says so (exit 1).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { startMaster, type Master } from '../../master/index.js';
import type { Node, Pod } from '../../protocol/index.js';
import { alive, recordedPids, stopAgentProc } from '../../bench/cluster-selfheal.js';
import { copyBundle, requireBundle, startBundleAgent, type BundleAgent } from '../helpers/bundle-agent.js';
import { testEngine } from '../helpers/cluster.js';
import { root } from '../helpers/procs.js';
import { eventually, tempDir } from '../helpers/wait.js';
import { runCli } from '../cli/helpers.js';
import type { ArmArch } from '../helpers/arm.js';

const boards: { name: string; arch?: ArmArch; supervised: boolean }[] = [
  { name: 'up-x86-a', supervised: false },
  { name: 'up-x86-b', supervised: true },
  { name: 'up-arm64', arch: 'arm64', supervised: true },
];
const V2 = '0.2.0-e2e';

const daemonSet = {
  apiVersion: 'apps/v1',
  kind: 'DaemonSet',
  metadata: { name: 'keeper', namespace: 'default' },
  spec: {
    selector: { matchLabels: { app: 'keeper' } },
    template: { metadata: { labels: { app: 'keeper' } }, spec: { runtimeClassName: 'process', terminationGracePeriodSeconds: 2, containers: [{ name: 'main', command: ['/bin/sh', '-c', 'exec sleep 100000'] }] } },
  },
};

/** The largest number of nodes between their first and last progress line at once. */
function maxInFlight(out: string): number {
  const open = new Set<string>();
  let max = 0;
  for (const m of out.matchAll(/^node (\S+): (.*)$/gm)) {
    if (/^(upgraded|already|rolled back|failed)/.test(m[2])) open.delete(m[1]);
    else open.add(m[1]);
    max = Math.max(max, open.size);
  }
  return max;
}

describe('e2e: fleet upgrade of three agents (one emulated arm64)', () => {
  let dir: string;
  let master: Master;
  const agents = new Map<string, BundleAgent>();
  const dataDir = (name: string) => join(dir, name, 'data');
  const node = (name: string) => master.informers.get('Node', undefined, name);
  const versionOf = (name: string) => node(name)?.status?.nodeInfo?.agentVersion;
  const pidsOf = (name: string) => [...recordedPids(dataDir(name)).values()].flat();
  const cli = (args: string[]) => runCli(args, { env: { SKIFF_SERVER: master.url, SKIFF_TOKEN: master.adminToken } });

  beforeAll(async () => {
    requireBundle();
    dir = await tempDir('skiff-upgrade-');
    master = await startMaster({ dataDir: join(dir, 'master'), mqttPort: 0, httpPort: -1, mqttHost: '127.0.0.1', quiet: true, engine: testEngine, mdns: false, podSecurityDefault: 'privileged' });
    for (const b of boards)
      agents.set(b.name, await startBundleAgent({ bundle: copyBundle(join(dir, b.name, 'bin')), arch: b.arch, supervised: b.supervised, master: master.url, token: master.joinToken, name: b.name, dataDir: dataDir(b.name), log: join(dir, `${b.name}.log`) }));
    await master.objects.create(daemonSet as never);
    // The new version and a broken one (its header is fine, its code throws as it loads).
    execFileSync(process.execPath, [join(root, 'scripts', 'build-agent.mjs'), '--quiet', '--version', V2, '--outfile', join(dir, 'v2.mjs')]);
    const lines = readFileSync(join(dir, 'v2.mjs'), 'utf8').replace(`"version":"${V2}"`, '"version":"0.3.0-broken"').split('\n');
    lines.splice(4, 0, 'throw new Error("this bundle cannot start");');
    writeFileSync(join(dir, 'broken.mjs'), lines.join('\n'));
    await eventually(() => boards.every((b) => pidsOf(b.name).length === 1 && master.informers.list('Pod', 'default').filter((p) => p.spec.nodeName === b.name && p.status?.phase === 'Running').length === 1), 'a keeper pod Running on each node', 150_000, 200);
  }, 240_000);

  afterAll(async () => {
    for (const [name, a] of agents) {
      await a.stop();
      await stopAgentProc(undefined, dataDir(name)); // the re-executed agent is not our child: stop it through its data dir
    }
    await master?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  }, 90_000);

  it('upgrades every node to the new version, at most --max-unavailable at a time; pods keep their pids', async () => {
    const before = new Map(boards.map((b) => [b.name, pidsOf(b.name)]));
    const from = versionOf('up-x86-a');
    const r = await cli(['nodes', 'upgrade', '--all', '--bundle', join(dir, 'v2.mjs'), '--max-unavailable', '2', '--timeout', '150s']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    for (const b of boards) {
      expect(r.stdout).toMatch(new RegExp(`^node ${b.name}: downloading 100%$`, 'm'));
      expect(r.stdout).toMatch(new RegExp(`^node ${b.name}: upgraded to v${V2}$`, 'm'));
      expect(versionOf(b.name)).toBe(V2);
      expect(node(b.name)?.status?.conditions?.find((c) => c.type === 'AgentUpgrade')).toMatchObject({ status: 'True', reason: 'Upgraded', message: `upgraded from ${from} to ${V2}` });
      expect(JSON.parse(node(b.name)!.metadata.annotations!['skiff.io/agent-upgrade'])).toMatchObject({ version: V2, phase: 'Upgraded' });
      // Same pod processes, alive, adopted by the new agent.
      expect(pidsOf(b.name)).toEqual(before.get(b.name));
      expect(pidsOf(b.name).every(alive)).toBe(true);
      expect(readFileSync(join(dir, `${b.name}.log`), 'utf8')).toMatch(/adopted its running process/);
      // The new bundle took the old one's place; the old one is kept beside it.
      expect(readFileSync(join(dir, b.name, 'bin', 'skiff-agent.mjs')).equals(readFileSync(join(dir, 'v2.mjs')))).toBe(true);
      expect(existsSync(join(dir, b.name, 'bin', 'skiff-agent.prev.mjs'))).toBe(true);
    }
    // How each restarted: the unsupervised one started its bundle again itself, the others exited 75 for the supervisor.
    expect(readFileSync(join(dir, 'up-x86-a.log'), 'utf8')).toMatch(/started \S+skiff-agent\.mjs again \(pid \d+\); this process exits/);
    expect(agents.get('up-x86-a')!.restarts()).toBe(0);
    for (const name of ['up-x86-b', 'up-arm64']) expect(readFileSync(join(dir, `${name}.log`), 'utf8')).toMatch(/exited \(75\); starting it again/);
    expect(maxInFlight(r.stdout)).toBeLessThanOrEqual(2);
    expect(maxInFlight(r.stdout)).toBeGreaterThanOrEqual(1);
    const get = await cli(['get', 'nodes']);
    for (const b of boards) expect(get.stdout).toMatch(new RegExp(`^${b.name}\\s+Ready\\s+\\S+\\s+\\S+\\s+v${V2.replace(/\./g, '\\.')}$`, 'm'));
  }, 300_000);

  it('a bundle that cannot start is rolled back: the node keeps its version and says why', async () => {
    const before = pidsOf('up-arm64');
    const r = await cli(['nodes', 'upgrade', 'up-arm64', '--bundle', join(dir, 'broken.mjs'), '--timeout', '150s']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^node up-arm64: rolled back, still v0\.2\.0-e2e: 0\.3\.0-broken rolled back, running 0\.2\.0-e2e: it cannot start: this bundle cannot start$/m);
    expect(r.stderr).toContain('1 of 1 node(s) not upgraded');
    expect(versionOf('up-arm64')).toBe(V2);
    expect(node('up-arm64')?.status?.conditions?.find((c) => c.type === 'AgentUpgrade')).toMatchObject({ status: 'False', reason: 'RolledBack' });
    expect(node('up-arm64')?.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
    expect(pidsOf('up-arm64')).toEqual(before);
    expect(existsSync(join(dir, 'up-arm64', 'bin', 'skiff-agent.next.mjs'))).toBe(false);
    expect(readFileSync(join(dir, 'up-arm64', 'bin', 'skiff-agent.mjs')).equals(readFileSync(join(dir, 'v2.mjs')))).toBe(true);
  }, 240_000);
});

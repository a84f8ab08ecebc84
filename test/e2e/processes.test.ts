/**
 * End to end with real processes: `skiff master`, two `skiff-agent join` processes and the `skiff`
 * CLI. A Deployment of 4 process replicas runs spread over both nodes; a replica whose process exits
 * is restarted and its restartCount rises; logs come back; scale to 1; delete stops every process.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChildProcess } from 'node:child_process';
import { readFile, writeFile, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Node, Pod } from '../../protocol/index.js';
import { alive, isRunningReady, testEngine } from '../helpers/cluster.js';
import { freePort, requireBuild, skiff, startProcess, stopProcess, agentBin, skiffBin } from '../helpers/procs.js';
import { stopAgentProc } from '../../bench/cluster-selfheal.js';
import { eventually, tempDir } from '../helpers/wait.js';

describe('e2e: real master, agents and CLI processes', () => {
  let dir: string;
  let master: ChildProcess;
  const agents: ChildProcess[] = [];
  let env: Record<string, string>;
  const getJson = async <T>(...args: string[]): Promise<T> => {
    const r = await skiff(['get', ...args, '-o', 'json'], env);
    if (r.code !== 0) throw new Error(`skiff get ${args.join(' ')} failed: ${r.stderr}`);
    return JSON.parse(r.stdout) as T;
  };
  const pidOf = async (pod: string) => Number(await readFile(join(dir, `${pod}.pid`), 'utf8'));

  beforeAll(async () => {
    requireBuild();
    dir = await tempDir('skiff-e2e-');
    const port = await freePort();
    master = startProcess([skiffBin, 'master', '--data-dir', join(dir, 'master'), '--mqtt-port', String(port), '--mqtts-port', '0', '--http-port', '0', '--bind', '127.0.0.1', '--engine', testEngine, '--pod-security-default', 'privileged'], join(dir, 'master.log'));
    const cfg = join(dir, 'master', 'config.json');
    await eventually(() => existsSync(cfg), 'master config.json');
    env = { SKIFF_CONFIG: cfg };
    const token = (await readFile(join(dir, 'master', 'join.token'), 'utf8')).trim();
    for (const name of ['e2e-a', 'e2e-b'])
      agents.push(
        startProcess([agentBin, 'join', '--master', `mqtt://127.0.0.1:${port}`, '--token', token, '--name', name, '--data-dir', join(dir, name), '--address', '127.0.0.1', '--lease-interval', '1s'], join(dir, `${name}.log`)),
      );
    await eventually(async () => {
      const nodes = await getJson<{ items: Node[] }>('nodes');
      return nodes.items.filter((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).length === 2;
    }, 'two Ready nodes', 30_000, 200);
  }, 60_000);

  afterAll(async () => {
    await Promise.all(agents.map((a, i) => stopAgentProc(a, join(dir, ['e2e-a', 'e2e-b'][i]))));
    await stopProcess(master);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('runs, restarts, logs, scales and deletes a Deployment of process replicas', async () => {
    const table = await skiff(['get', 'nodes'], env);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^NAME\s+STATUS\s+ROLES\s+AGE\s+VERSION$/m);
    expect(table.stdout).toMatch(/^e2e-a\s+Ready\s/m);

    const manifest = join(dir, 'ticker.yaml');
    await writeFile(
      manifest,
      `apiVersion: apps/v1
kind: Deployment
metadata: {name: ticker}
spec:
  replicas: 4
  selector: {matchLabels: {app: ticker}}
  template:
    metadata: {labels: {app: ticker}}
    spec:
      terminationGracePeriodSeconds: 2
      containers:
      - name: ticker
        command: [node, -e, "require('fs').writeFileSync(process.argv[1] + '/' + process.env.HOSTNAME + '.pid', String(process.pid)); console.log('tick from', process.env.HOSTNAME); setInterval(() => {}, 1000)", "${dir}"]
`,
    );
    const applied = await skiff(['apply', '-f', manifest], env);
    expect(applied.stderr).toBe('');
    expect(applied.stdout.trim()).toBe('deployment.apps/ticker created');

    const pods = await eventually(async () => {
      const l = await getJson<{ items: Pod[] }>('pods', '-l', 'app=ticker');
      return l.items.length === 4 && l.items.every(isRunningReady) && l.items;
    }, '4 running pods', 30_000, 200);
    expect(new Set(pods.map((p) => p.spec.nodeName))).toEqual(new Set(['e2e-a', 'e2e-b']));
    const pids = await Promise.all(pods.map((p) => eventually(async () => existsSync(join(dir, `${p.metadata.name}.pid`)) && (await pidOf(p.metadata.name)), 'pid file')));
    expect(pids.every(alive)).toBe(true);

    const logs = await skiff(['logs', pods[0].metadata.name], env);
    expect(logs.code).toBe(0);
    expect(logs.stdout).toContain(`tick from ${pods[0].metadata.name}`);

    // A replica whose process exits is restarted; restartCount rises.
    process.kill(pids[0], 'SIGKILL');
    await eventually(async () => {
      const p = await getJson<Pod>('pod', pods[0].metadata.name);
      return (p.status?.containerStatuses?.[0]?.restartCount ?? 0) >= 1 && isRunningReady(p);
    }, 'restartCount ≥ 1', 20_000, 200);
    const table2 = await skiff(['get', 'pods'], env);
    expect(table2.stdout).toMatch(new RegExp(`^${pods[0].metadata.name}\\s+1/1\\s+Running\\s+1\\s`, 'm'));

    const scaled = await skiff(['scale', 'deployment/ticker', '--replicas', '1'], env);
    expect(scaled.stdout.trim()).toBe('deployment.apps/ticker scaled');
    const left = await eventually(async () => {
      const l = await getJson<{ items: Pod[] }>('pods', '-l', 'app=ticker');
      return l.items.length === 1 && l.items;
    }, 'one pod left', 30_000, 200);
    const keep = await pidOf(left[0].metadata.name);
    const allPids = await Promise.all(pods.map((p) => pidOf(p.metadata.name)));
    await eventually(() => allPids.filter((p) => p !== keep).every((p) => !alive(p)), 'scaled-down processes gone', 20_000);
    expect(alive(keep)).toBe(true);

    const deleted = await skiff(['delete', 'deployment', 'ticker'], env);
    expect(deleted.stdout.trim()).toBe('deployment.apps "ticker" deleted');
    await eventually(async () => (await getJson<{ items: Pod[] }>('pods')).items.length === 0, 'no pods', 30_000, 200);
    await eventually(() => !alive(keep), 'last process stopped', 20_000);
  }, 120_000);

  it('rejects a bad manifest with exit 1, naming the field, and stores nothing', async () => {
    const bad = join(dir, 'bad.yaml');
    await writeFile(bad, 'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: broken}\nspec: {replicas: three, selector: {matchLabels: {a: b}}, template: {metadata: {labels: {a: b}}, spec: {containers: [{name: c, command: [x]}]}}}\n');
    const r = await skiff(['apply', '-f', bad], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('Deployment/broken: spec.replicas: must be an integer ≥ 0, got "three"');
    const g = await skiff(['get', 'deployment', 'broken'], env);
    expect(g.code).toBe(1);
    expect(g.stderr).toContain('not found');
  });
});

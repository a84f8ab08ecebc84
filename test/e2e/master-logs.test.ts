/**
 * `skiff master --log-format json` as a real process: every stderr line is one JSON object with
 * level, time and msg; a join, a refused join, an apply refusal (who, what, the rule) and start/stop
 * reach the log; stdout keeps the banner; a second SIGTERM does not cut the stop short.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { connectAsync, type MqttClient } from 'mqtt';
import { encode, topics } from '../../protocol/index.js';
import { connectKey, ephemeralKey, newJoinSession, newNonce } from '../../protocol/join.js';
import { joinSecret } from '../../protocol/join-token.js';
import { joinAs } from '../helpers/join.js';
import { testEngine } from '../helpers/cluster.js';
import { requireBuild, root, skiffBin, stopProcess } from '../helpers/procs.js';
import { eventually, tempDir } from '../helpers/wait.js';

type Line = Record<string, unknown> & { level: string; time: string; msg: string };

describe('e2e: master logs as JSON', () => {
  let dir: string;
  let master: ChildProcess;
  let stdout = '';
  let stderr = '';
  const lines = (): Line[] => stderr.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Line);
  const find = (pred: (l: Line) => boolean, what: string) => eventually(() => lines().find(pred), what, 15_000);
  const clients: MqttClient[] = [];
  let port = 0;
  const connect = async (username: string, password: string) => {
    const c = await connectAsync(`mqtt://127.0.0.1:${port}`, { username, password, protocolVersion: 4, reconnectPeriod: 0 });
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    requireBuild();
    dir = await tempDir('skiff-logs-');
    master = spawn(
      process.execPath,
      [skiffBin, 'master', '--log-format', 'json', '--log-level', 'debug', '--data-dir', join(dir, 'm'), '--mqtt-port', '0', '--http-port=-1', '--bind', '127.0.0.1', '--no-mdns', '--engine', testEngine],
      { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    master.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    master.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const started = await find((l) => l.msg === 'started', 'the "started" line');
    port = Number(String(started.mqtt).split(':').pop());
  }, 30_000);

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.endAsync(true).catch(() => undefined)));
    if (master) await stopProcess(master);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('logs start-up: leading, then started with the ports; the banner is on stdout', async () => {
    const all = lines();
    const leading = all.findIndex((l) => l.msg === 'leading');
    const started = all.findIndex((l) => l.msg === 'started');
    expect(leading).toBeGreaterThanOrEqual(0);
    expect(started).toBeGreaterThan(leading);
    expect(all[started]).toMatchObject({ level: 'info', https: 'off', mqtt: expect.stringMatching(/^127\.0\.0\.1:\d+$/), mqtts: expect.stringMatching(/^127\.0\.0\.1:\d+$/), ca: expect.stringMatching(/^sha256:/), engine: testEngine });
    await eventually(() => stdout.includes('join a board'), 'the banner on stdout');
    expect(stdout).not.toMatch(/"level"/);
  });

  it('logs a join (info) and a refused join (warn, with the rule)', async () => {
    const joinToken = (await readFile(join(dir, 'm', 'join.token'), 'utf8')).trim();
    await joinAs(`mqtt://127.0.0.1:${port}`, joinToken, 'log-pi');
    const joined = await find((l) => l.reason === 'Joined', 'the join line');
    expect(joined).toMatchObject({ level: 'info', object: 'Node/log-pi', component: 'events' });
    expect(joined.msg).toMatch(/log-pi joined \(\w+, [^)]+\) from 127\.0\.0\.1/);

    const bad = await connect('log-bad', connectKey(joinSecret(joinToken)));
    const hello = { step: 'hello', node: 'log-bad', nonce: newNonce(), key: ephemeralKey().publicKey, dialled: `127.0.0.1:${port}`, discovered: false, facts: { hostname: 7 } };
    await bad.publishAsync(topics.joinReq(newJoinSession()), encode(hello), { qos: 1 });
    const refused = await find((l) => l.msg === 'join refused', 'the refused join line');
    expect(refused).toMatchObject({ level: 'warn', node: 'log-bad', component: 'nodes' });
    expect(JSON.stringify(refused.err)).toMatch(/facts\.arch: is required/);
  });

  it('logs an apply refusal with who, what and the rule', async () => {
    const adminToken = (await readFile(join(dir, 'm', 'admin.token'), 'utf8')).trim();
    const admin = await connect('admin', adminToken);
    const manifest = 'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec: {replicas: three, selector: {matchLabels: {app: web}}, template: {metadata: {labels: {app: web}}, spec: {containers: [{name: c, command: [x]}]}}}\n';
    await admin.publishAsync(topics.apply, manifest, { qos: 1 });
    const refused = await find((l) => l.msg === 'apply refused', 'the apply refusal line');
    expect(refused).toMatchObject({ level: 'warn', user: 'admin', role: 'admin', object: 'Deployment/web', code: 'SKIFF_ERR_VALIDATION', component: 'api' });
    expect(refused.err).toMatch(/spec\.replicas: must be an integer/);
  });

  it('every line is JSON with level, ISO time and msg; two SIGTERMs stop it once, cleanly', async () => {
    const exited = new Promise<void>((r) => master.once('exit', () => r()));
    master.kill('SIGTERM');
    master.kill('SIGTERM'); // a second signal waits for the first stop
    await exited;
    expect(master.exitCode).toBe(0);
    const all = lines();
    for (const l of all) {
      expect(['debug', 'info', 'warn', 'error']).toContain(l.level);
      expect(new Date(l.time).toISOString()).toBe(l.time);
      expect(typeof l.msg).toBe('string');
    }
    const msgs = all.map((l) => l.msg);
    expect(msgs.filter((m) => m === 'stopping')).toHaveLength(1);
    expect(msgs.indexOf('stopped')).toBeGreaterThan(msgs.indexOf('stopping'));
    expect(msgs.at(-1)).toBe('stopped');
    expect(msgs).toContain('stopped store');
  });
});

/**
 * Apply as a transaction per file, against a real in-process master: with `--atomic` (the CLI), `atomic: true`
 * (the API) and always on `skiff/v1/apply`, a file with one bad document stores nothing — the bad one says
 * why, the others that they were not applied — and a good file is stored in one store transaction (every
 * object carries the same resourceVersion). The outcome on skiff/v1/events is JSON, read here by a real
 * mosquitto_sub; an apply published by a view token is refused with an event too.
 */
import { spawn, execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectApi } from '../../cli/client.js';
import type { Api } from '../../cli/types.js';
import { startMaster, type Master } from '../../master/index.js';
import { topics, type ApplyResult, type EventMessage } from '../../protocol/index.js';
import { cliFor, type CliRun } from '../cli/cluster-cli.js';
import { testEngine } from '../helpers/cluster.js';
import { eventually, tempDir } from '../helpers/wait.js';

const run = promisify(execFile);
const cm = (name: string, ns = '') => `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ${name}${ns ? `, namespace: ${ns}` : ''}}\ndata: {a: "1"}\n`;
const badDeployment = `apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: broken}\nspec: {replicas: three, selector: {matchLabels: {a: b}}, template: {metadata: {labels: {a: b}}, spec: {containers: [{name: c, command: [x]}]}}}\n`;
const file3 = (prefix: string) => [cm(`${prefix}-a`), badDeployment, cm(`${prefix}-b`)].join('---\n');

/**
 * A real mosquitto_sub on skiff/v1/events (one message, then it exits): resolves once it is subscribed, with
 * the text of the message it printed.
 */
async function subscribeOnce(m: Master, user: string, password: string): Promise<{ message: Promise<string> }> {
  // stdbuf: mosquitto_sub's debug lines reach the pipe as they are printed (the SUBACK says it is subscribed).
  const sub = spawn('stdbuf', ['-oL', 'mosquitto_sub', '-h', '127.0.0.1', '-p', String(m.mqttPort), '-u', user, '-P', password, '-V', 'mqttv311', '-t', topics.events, '-C', '1', '-W', '20', '-d']);
  let out = '';
  sub.stdout.on('data', (d: Buffer) => (out += d.toString()));
  sub.stderr.on('data', (d: Buffer) => (out += d.toString()));
  await eventually(() => out.includes('SUBACK'), 'mosquitto_sub subscribed').catch((err) => {
    throw new Error(`${err.message}: ${out}`);
  });
  // (Wrapped: an async function returning the promise itself would wait for the message.)
  const message = new Promise<string>((resolve, reject) => {
    sub.on('error', reject);
    // With -d, debug lines come first; the message is a line of its own.
    sub.on('close', () => resolve(out.split('\n').filter((l) => l.startsWith('{')).pop() ?? ''));
  });
  return { message };
}

describe('atomic apply', () => {
  let master: Master;
  let api: Api;
  let dir: string;
  let cli: (args: string[]) => Promise<CliRun>;
  const exists = (name: string, ns = 'default') =>
    api.request('get', { kind: 'ConfigMap', name, namespace: ns }).then(
      () => true,
      () => false,
    );

  beforeAll(async () => {
    dir = await tempDir();
    master = await startMaster({ dataDir: join(dir, 'm'), mqttPort: 0, httpPort: -1, mqttHost: '127.0.0.1', quiet: true, engine: testEngine });
    api = await connectApi({ server: master.url, user: 'admin', token: master.adminToken, timeoutMs: 5000 });
    cli = cliFor(master);
  });
  afterAll(async () => {
    await api?.close();
    await master?.stop();
  });

  it('the API stores every document of an atomic apply in one transaction, or none', async () => {
    const refused = await api.request<{ results: ApplyResult[] }>('apply', { manifest: file3('api'), atomic: true });
    expect(refused.results.map((r) => [r.kind, r.name, r.action, r.error?.code])).toEqual([
      ['ConfigMap', 'api-a', 'failed', 'SKIFF_ERR_BAD_REQUEST'],
      ['Deployment', 'broken', 'failed', 'SKIFF_ERR_VALIDATION'],
      ['ConfigMap', 'api-b', 'failed', 'SKIFF_ERR_BAD_REQUEST'],
    ]);
    expect(refused.results[0]!.error!.message).toBe('ConfigMap/api-a: not applied: the apply is atomic and Deployment/broken was refused');
    expect(await exists('api-a')).toBe(false);
    expect(await exists('api-b')).toBe(false);
    // Without atomic, kubectl's way: the good ones are stored.
    const each = await api.request<{ results: ApplyResult[] }>('apply', { manifest: file3('each') });
    expect(each.results.map((r) => r.action)).toEqual(['created', 'failed', 'created']);
    // A namespace and objects in it, in one transaction: one revision for all of them.
    const good = await api.request<{ results: ApplyResult[] }>('apply', { manifest: [cm('in-ns', 'fresh'), 'apiVersion: v1\nkind: Namespace\nmetadata: {name: fresh}\n', cm('api-c')].join('---\n'), atomic: true, echo: true });
    expect(good.results.map((r) => [r.kind, r.action])).toEqual([['Namespace', 'created'], ['ConfigMap', 'created'], ['ConfigMap', 'created']]);
    expect(new Set(good.results.map((r) => r.object!.metadata.resourceVersion)).size).toBe(1);
    expect(await exists('in-ns', 'fresh')).toBe(true);
    // Applied again: unchanged, nothing written.
    const again = await api.request<{ results: ApplyResult[] }>('apply', { manifest: [cm('api-c'), cm('api-d')].join('---\n'), atomic: true });
    expect(again.results.map((r) => r.action)).toEqual(['unchanged', 'created']);
  });

  it('skiff apply --atomic: one bad document, nothing stored, exit 1 with every reason', async () => {
    const f = join(dir, 'three.yaml');
    writeFileSync(f, file3('cli'));
    const r = await cli(['apply', '-f', f, '--atomic']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      'error: ConfigMap/cli-a: not applied: the apply is atomic and Deployment/broken was refused\n' +
        'error: Deployment/broken: spec.replicas: must be an integer ≥ 0, got "three"\n' +
        'error: ConfigMap/cli-b: not applied: the apply is atomic and Deployment/broken was refused\n',
    );
    expect(await exists('cli-a')).toBe(false);
    writeFileSync(f, [cm('cli-a'), cm('cli-b')].join('---\n'));
    expect(await cli(['apply', '-f', f, '--atomic'])).toEqual({ code: 0, stdout: 'configmap/cli-a created\nconfigmap/cli-b created\n', stderr: '' });
  });

  it('skiff/v1/apply is atomic, and its outcome on skiff/v1/events is JSON (mosquitto_pub and mosquitto_sub)', async () => {
    const pub = (user: string, password: string, text: string) =>
      run('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(master.mqttPort), '-u', user, '-P', password, '-V', 'mqttv311', '-q', '1', '-t', topics.apply, '-m', text]);
    let received = await subscribeOnce(master, 'admin', master.adminToken);
    await pub('admin', master.adminToken, file3('mqtt'));
    const failed = JSON.parse(await received.message) as EventMessage;
    expect(failed).toMatchObject({ type: 'Warning', reason: 'ApplyFailed', source: expect.stringMatching(/^admin \(/) });
    expect(failed.results!.map((r) => r.action)).toEqual(['failed', 'failed', 'failed']);
    expect(failed.message).toContain('deployment.apps/broken failed: Deployment/broken: spec.replicas: must be an integer ≥ 0, got "three"');
    expect(await exists('mqtt-a')).toBe(false);
    received = await subscribeOnce(master, 'admin', master.adminToken);
    await pub('admin', master.adminToken, [cm('mqtt-a'), cm('mqtt-b')].join('---\n'));
    expect(JSON.parse(await received.message)).toMatchObject({ type: 'Normal', reason: 'Applied', message: 'configmap/mqtt-a created; configmap/mqtt-b created' });
    expect(await exists('mqtt-b')).toBe(true);
  });

  it('an apply published by a view token is refused with an event, and its connection stays', async () => {
    const { token } = await api.request<{ token: string }>('token', { action: 'create', name: 'watcher', access: 'view' });
    const received = await subscribeOnce(master, 'watcher', token);
    const viewer = await mqtt.connectAsync(master.url, { protocolVersion: 4, username: 'watcher', password: token, reconnectPeriod: 0 });
    await viewer.publishAsync(topics.apply, cm('sneaky'), { qos: 1 });
    const refused = JSON.parse(await received.message) as EventMessage;
    expect(refused).toMatchObject({ type: 'Warning', reason: 'ApplyFailed', error: { code: 'SKIFF_ERR_FORBIDDEN', message: 'user "watcher" (view access) may not apply' } });
    expect(viewer.connected).toBe(true);
    expect(await exists('sneaky')).toBe(false);
    await viewer.endAsync();
  });
});

/**
 * Issue 9, item 3: `verb: "constructor"` returned the master's internals — admin.token and join.token
 * among them — to any admin-access token, because verbs were looked up on a plain object. Every entry
 * point where a client-chosen string selects a handler or a property is replayed with the names every
 * object inherits, over MQTT against a real master where the string arrives over MQTT, and directly
 * where it is a pure function of it. Nothing may resolve, leak or change.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { rm } from 'node:fs/promises';
import mqtt, { type MqttClient } from 'mqtt';
import { startMaster, type Master } from '../../master/index.js';
import { connectApi } from '../../cli/client.js';
import type { Api } from '../../cli/types.js';
import { main as cli } from '../../cli/main.js';
import { endpointsOf } from '../../master/services/endpoints.js';
import { expand, resolveEnv } from '../../edge-agent/pods/env.js';
import { SkiffError, decode, matchesRequirements, matchesSelector, parseDuration, parseQuantity, parseTopic, topics, type ApiResponse, type EventMessage, type Node, type Pod, type Service } from '../../protocol/index.js';
import { testEngine } from '../helpers/cluster.js';
import { eventually, tempDir } from '../helpers/wait.js';

/** What every plain object answers to. */
const inherited = ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf'];

describe('client-chosen names never reach Object.prototype', () => {
  let master: Master;
  let api: Api;
  let raw: MqttClient;
  let dir: string;
  const answers: Buffer[] = [];
  const events: EventMessage[] = [];

  beforeAll(async () => {
    dir = await tempDir();
    master = await startMaster({ dataDir: join(dir, 'm'), mqttPort: 0, httpPort: -1, mqttHost: '127.0.0.1', quiet: true, engine: testEngine, podSecurityDefault: 'privileged' });
    api = await connectApi({ server: master.url, user: 'admin', token: master.adminToken, timeoutMs: 5000 });
    // A plain JSON client, so each name arrives exactly as written.
    raw = await new Promise<MqttClient>((resolve, reject) => {
      const c = mqtt.connect(master.url, { protocolVersion: 4, username: 'admin', password: master.adminToken, clientId: 'proto-raw', reconnectPeriod: 0 });
      c.once('connect', () => resolve(c));
      c.once('error', reject);
    });
    await raw.subscribeAsync([topics.apiRes('proto-raw'), topics.events]);
    raw.on('message', (t, p) => (t === topics.events ? events.push(decode<EventMessage>(p).value) : answers.push(p)));
    await api.request('apply', {
      manifest: `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: c, command: [sleep, '60']}]}
`,
    });
    await eventually(async () => (await api.request<{ items: Pod[] }>('list', { kind: 'Pod' })).items.length === 1, 'the web pod');
    // Settled: the controllers' own writes (statuses, the unschedulable pod's condition) are done.
    let last = -1;
    await eventually(async () => {
      await master.idle();
      await new Promise((r) => setTimeout(r, 300));
      const same = master.informers.revision === last;
      last = master.informers.revision;
      return same;
    }, 'the store to settle');
  });
  afterAll(async () => {
    raw?.end(true);
    await api?.close();
    await master?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** Sends one JSON request and returns the raw answer text. */
  async function ask(request: Record<string, unknown>): Promise<string> {
    const id = `q${answers.length}-${Math.random()}`;
    const before = answers.length;
    await raw.publishAsync(topics.apiReq('proto-raw'), Buffer.from(JSON.stringify({ id, ...request })), { qos: 1 });
    await eventually(() => answers.slice(before).some((a) => a.toString().includes(id)), `an answer to ${JSON.stringify(request)}`);
    return answers.slice(before).find((a) => a.toString().includes(id))!.toString();
  }

  /** Asserts an answer is an error with `code` that carries none of the master's secrets. */
  function refused(answer: string, code: string): void {
    const res = JSON.parse(answer) as ApiResponse;
    expect(res.ok, answer).toBe(false);
    expect(res.error?.code).toBe(code);
    expect(answer).not.toContain(master.adminToken);
    expect(answer).not.toContain(master.joinToken);
  }

  const table: [string, (n: string) => Record<string, unknown>, string][] = [
    ['the API verb', (n) => ({ verb: n }), 'SKIFF_ERR_BAD_REQUEST'],
    ['the kind of get', (n) => ({ verb: 'get', kind: n, name: 'web' }), 'SKIFF_ERR_UNKNOWN_KIND'],
    ['the kind of list', (n) => ({ verb: 'list', kind: n }), 'SKIFF_ERR_UNKNOWN_KIND'],
    ['the kind of delete', (n) => ({ verb: 'delete', kind: n, name: 'web' }), 'SKIFF_ERR_UNKNOWN_KIND'],
    ['the kind of scale', (n) => ({ verb: 'scale', kind: n, name: 'web', replicas: 2 }), 'SKIFF_ERR_UNKNOWN_KIND'],
    ['the kind of watch', (n) => ({ verb: 'watch', kind: n }), 'SKIFF_ERR_UNKNOWN_KIND'],
    ['the kind of top', (n) => ({ verb: 'top', kind: n }), 'SKIFF_ERR_UNKNOWN_KIND'],
    ['the rollout action', (n) => ({ verb: 'rollout', action: n, kind: 'Deployment', name: 'web' }), 'SKIFF_ERR_BAD_REQUEST'],
    ['the token action', (n) => ({ verb: 'token', action: n, name: 'x' }), 'SKIFF_ERR_BAD_REQUEST'],
    ['the token access', (n) => ({ verb: 'token', action: 'create', name: 'x', access: n }), 'SKIFF_ERR_BAD_REQUEST'],
    ['the delete cascade', (n) => ({ verb: 'delete', kind: 'Deployment', name: 'web', cascade: n }), 'SKIFF_ERR_BAD_REQUEST'],
  ];
  for (const [where, request, code] of table)
    it(`${where}: ${inherited.join(', ')} are unknown, leak nothing and change nothing`, async () => {
      const revision = master.informers.revision;
      for (const n of inherited) refused(await ask(request(n)), code);
      await master.idle();
      expect(master.informers.revision).toBe(revision);
      expect((await api.request<{ items: unknown[] }>('token', { action: 'list' })).items).toEqual([]);
    });

  it('a kind or a label selector key in an applied manifest or a list resolves to nothing', async () => {
    const revision = master.informers.revision;
    for (const n of inherited) {
      const { results } = await api.request<{ results: { action: string; error?: { code: string } }[] }>('apply', { objects: [{ apiVersion: 'v1', kind: n, metadata: { name: 'x' } }] });
      expect(results[0].action).toBe('failed');
      expect(results[0].error?.code).toBe('SKIFF_ERR_UNKNOWN_KIND');
      // `app` exists on the web pod; an inherited name is no label of it.
      const list = await api.request<{ items: Pod[] }>('list', { kind: 'Pod', labelSelector: 'app' }).then((l) => l.items.length);
      expect(list).toBe(1);
      const selected = await api.request<{ items: Pod[] }>('list', { kind: 'Pod', labelSelector: `${n}=x` }).then((l) => l.items.length, (e: SkiffError) => e.code);
      expect([0, 'SKIFF_ERR_VALIDATION', 'SKIFF_ERR_BAD_REQUEST']).toContain(selected);
    }
    expect(master.informers.revision).toBe(revision);
  });

  it('an apply on skiff/v1/apply with an inherited kind fails with UNKNOWN_KIND on the event stream', async () => {
    for (const n of inherited) {
      const before = events.length;
      await raw.publishAsync(topics.apply, Buffer.from(JSON.stringify({ apiVersion: 'v1', kind: n, metadata: { name: 'x' } })), { qos: 1 });
      const ev = await eventually(() => events.slice(before).find((e) => e.reason === 'ApplyFailed'), `ApplyFailed for ${n}`);
      expect(JSON.stringify(ev)).toContain('SKIFF_ERR_UNKNOWN_KIND');
    }
  });

  it('topic routing: an inherited name as a topic level is no topic of the tree', () => {
    for (const n of inherited) {
      expect(parseTopic(`skiff/v1/nodes/n1/${n}`)).toBeUndefined();
      expect(parseTopic(`skiff/v1/${n}`)).toBeUndefined();
      expect(parseTopic(`skiff/v1/api/c/${n}`)).toBeUndefined();
      expect(parseTopic(`skiff/v1/join/n1/${n}`)).toBeUndefined();
      // As data it stays data: a node named so, a metric named so.
      expect(parseTopic(`skiff/v1/nodes/${n}/status`)).toEqual({ type: 'nodeStatus', node: n });
      expect(parseTopic(`skiff/v1/metrics/${n}`)).toEqual({ type: 'metric', name: n });
    }
  });

  it('error codes, quantity suffixes, duration units and label keys: inherited names are not entries', () => {
    for (const n of inherited) {
      expect(SkiffError.fromWire({ code: n as never, message: 'm' }).code).toBe('SKIFF_ERR_INTERNAL');
      expect(parseQuantity(`1${n}`)).toBeUndefined();
      expect(parseDuration(`1${n}`)).toBeUndefined();
      expect(matchesSelector({ matchLabels: { [n]: 'x' } }, { app: 'web' })).toBe(false);
      expect(matchesRequirements([{ key: n, operator: 'Exists' }], { app: 'web' })).toBe(false);
    }
  });

  it('a service port named after an inherited property gets no port it does not have', () => {
    const node = { metadata: { name: 'n1' }, status: { addresses: [{ type: 'InternalIP', address: '10.0.0.1' }], conditions: [{ type: 'Ready', status: 'True' }] } } as unknown as Node;
    const pod = {
      metadata: { name: 'p', namespace: 'default', uid: 'u', labels: { app: 'web' } },
      spec: { nodeName: 'n1', containers: [{ name: 'c', ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }] }] },
      status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] },
    } as unknown as Pod;
    for (const n of ['constructor', 'tostring', 'valueof']) {
      const svc = { metadata: { name: 's', namespace: 'default' }, spec: { selector: { app: 'web' }, ports: [{ name: n, port: 80, targetPort: 'missing', protocol: 'TCP' }, { name: 'web', port: 81, targetPort: 'http', protocol: 'TCP' }] } } as unknown as Service;
      const { subsets } = endpointsOf(svc, [pod], () => node);
      expect(JSON.stringify(subsets)).not.toContain('function');
      expect(subsets[0].ports).toEqual([{ name: 'web', port: 8080, protocol: 'TCP' }]);
    }
  });

  it("an agent expands $(NAME) and fieldRefs from the pod's own variables and labels only", () => {
    const pod = { metadata: { name: 'p', namespace: 'default', uid: 'u', labels: { app: 'web' } }, spec: { containers: [] } } as unknown as Pod;
    for (const n of inherited) {
      expect(expand(`$(${n})`, { A: '1' })).toBe(`$(${n})`);
      const env = resolveEnv({ name: 'c', env: [{ name: 'L', valueFrom: { fieldRef: { fieldPath: `metadata.labels['${n}']` } } }] } as never, {
        pod,
        desired: {},
        nodeName: 'n1',
        hostIP: '127.0.0.1',
        ports: [],
        allocatable: { cpuMilli: 1000, memoryBytes: 1 << 30 },
      });
      expect(env.L).toBe('');
    }
  });

  it('the CLI takes an inherited name as an unknown command', async () => {
    for (const n of inherited) {
      let err = '';
      const code = await cli([n], { stdout: () => {}, stderr: (s) => (err += s), readStdin: async () => '', env: {} }).catch((e: Error) => {
        err += e.message;
        return 1;
      });
      expect(code).toBe(1);
      expect(err).toContain(`unknown command "${n}"`);
    }
  });
});

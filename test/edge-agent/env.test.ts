/** Env resolution and ports of process pods, end to end: the process dumps its env and listens on PORT. */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startAgent, type Agent } from '../../edge-agent/index.js';
import type { KObject } from '../../protocol/types.js';
import { FakeMaster, JOIN_TOKEN, memoryLogger, podWith, readText, tempDir, until } from './helpers.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');
const configMap = (name: string, data: Record<string, string>): KObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'default' }, data });
const secret = (name: string, data: Record<string, string>): KObject => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: 'default' }, data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, b64(v)])) });

/** A node process that writes its env to OUT and listens on PORT. */
const dumper = (out: string) => ({
  command: [process.execPath, '-e', `require('fs').writeFileSync(${JSON.stringify(out)}, JSON.stringify(process.env)); require('net').createServer((s) => s.end('hi')).listen(Number(process.env.PORT), '127.0.0.1')`],
});

describe('edge agent: env and ports', () => {
  let master: FakeMaster;
  let agent: Agent;
  let dataDir: string;
  const node = 'pi-env';

  beforeEach(async () => {
    master = await new FakeMaster().start();
    dataDir = tempDir();
    agent = await startAgent({ master: master.url, token: JOIN_TOKEN, name: node, dataDir, address: '127.0.0.1', logger: memoryLogger() });
    await until(() => agent.connected, 'connected');
  });
  afterEach(async () => {
    await agent.stop();
    await master.close();
  });

  it('resolves values, $(VAR), downward API, ConfigMap and Secret keys, envFrom, and free ports', async () => {
    const out = path.join(dataDir, 'env.json');
    const pod = podWith('envy', {
      ...dumper(out),
      ports: [{ name: 'http' }, { name: 'metrics-port', containerPort: 0 }, { containerPort: 9999, name: 'fixed' }],
      env: [
        { name: 'PLAIN', value: 'v1' },
        { name: 'EXPANDED', value: 'pre-$(PLAIN)-$(NOPE)-$$(PLAIN)' },
        { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
        { name: 'POD_NS', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
        { name: 'POD_UID', valueFrom: { fieldRef: { fieldPath: 'metadata.uid' } } },
        { name: 'NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
        { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
        { name: 'HOST_IP', valueFrom: { fieldRef: { fieldPath: 'status.hostIP' } } },
        { name: 'APP', valueFrom: { fieldRef: { fieldPath: "metadata.labels['app']" } } },
        { name: 'CM_KEY', valueFrom: { configMapKeyRef: { name: 'settings', key: 'mode' } } },
        { name: 'SECRET_KEY', valueFrom: { secretKeyRef: { name: 'creds', key: 'password' } } },
        { name: 'OPTIONAL', valueFrom: { configMapKeyRef: { name: 'absent', key: 'x', optional: true } } },
      ],
      envFrom: [{ configMapRef: { name: 'settings' }, prefix: 'CFG_' }, { secretRef: { name: 'creds' } }],
    });
    await master.desire(node, {
      generation: 1,
      pods: [pod],
      configMaps: { 'default/settings': configMap('settings', { mode: 'fast', level: '3' }) },
      secrets: { 'default/creds': secret('creds', { password: 's3cr3t', user: 'bob' }) },
      services: { 'default/db': { host: '127.0.0.1', ports: [{ name: 'sql', port: 5432, protocol: 'TCP' }] } },
    });
    const env = JSON.parse(await until(() => readText(out), 'the env dump')) as Record<string, string>;
    expect(env).toMatchObject({
      HOSTNAME: 'envy',
      PLAIN: 'v1',
      EXPANDED: 'pre-v1-$(NOPE)-$(PLAIN)',
      POD_NAME: 'envy',
      POD_NS: 'default',
      POD_UID: pod.metadata.uid,
      NODE: node,
      POD_IP: '127.0.0.1',
      HOST_IP: '127.0.0.1',
      APP: 'envy',
      CM_KEY: 'fast',
      SECRET_KEY: 's3cr3t',
      CFG_mode: 'fast',
      CFG_level: '3',
      password: 's3cr3t',
      user: 'bob',
      DB_SERVICE_HOST: '127.0.0.1',
      DB_SERVICE_PORT: '5432',
      DB_SERVICE_PORT_SQL: '5432',
    });
    expect(env.OPTIONAL).toBeUndefined();
    expect(env.PATH).toBe(process.env.PATH);
    expect(Object.keys(env)).not.toContain('VITEST'); // the agent's own environment does not leak in
    const port = Number(env.PORT);
    expect(port).toBeGreaterThan(0);
    expect(env.PORT_HTTP).toBe(env.PORT);
    expect(Number(env.PORT_METRICS_PORT)).toBeGreaterThan(0);
    expect(env.PORT_METRICS_PORT).not.toBe(env.PORT);
    expect(env.PORT_FIXED).toBe('9999');

    const st = await until(() => master.pods.get(pod.metadata.uid!)?.phase === 'Running' && master.pods.get(pod.metadata.uid!), 'Running');
    expect(st.ports).toEqual([
      { containerName: 'main', name: 'http', port, protocol: 'TCP' },
      { containerName: 'main', name: 'metrics-port', port: Number(env.PORT_METRICS_PORT), protocol: 'TCP' },
      { containerName: 'main', name: 'fixed', port: 9999, protocol: 'TCP' },
    ]);
    // The process really listens on the port it was given.
    const reply = await until(
      () =>
        new Promise<string | undefined>((resolve) => {
          const s = net.connect(port, '127.0.0.1');
          let data = '';
          s.on('data', (d) => (data += d));
          s.on('end', () => resolve(data));
          s.on('error', () => resolve(undefined));
        }),
      'a connection to PORT',
    );
    expect(reply).toBe('hi');
  });

  it('a missing ConfigMap keeps the pod Pending with CreateContainerConfigError until a desired set brings it', async () => {
    const out = path.join(dataDir, 'env2.json');
    const pod = podWith('needs-cm', { ...dumper(out), env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'late', key: 'x' } } }] });
    await master.desire(node, { generation: 1, pods: [pod] });
    const st = await until(() => master.pods.get(pod.metadata.uid!), 'a report');
    expect(st.phase).toBe('Pending');
    expect(st.containerStatuses?.[0].state.waiting).toMatchObject({ reason: 'CreateContainerConfigError', message: 'configmap "late" not found' });
    expect(fs.existsSync(out)).toBe(false);
    await master.desire(node, { generation: 2, pods: [pod], configMaps: { 'default/late': configMap('late', { x: 'arrived' }) } });
    const env = JSON.parse(await until(() => readText(out), 'the env dump')) as Record<string, string>;
    expect(env.X).toBe('arrived');
    await until(() => master.pods.get(pod.metadata.uid!)?.phase === 'Running', 'Running');
  });

  it('a pod asking for a runtime this node lacks stays Pending with the reason', async () => {
    const pod = podWith('boxed', { image: 'nginx:1.27' });
    await master.desire(node, { generation: 1, pods: [pod] });
    const st = await until(() => master.pods.get(pod.metadata.uid!), 'a report');
    expect(st.phase).toBe('Pending');
    expect(st.containerStatuses?.[0].state.waiting?.reason).toBe('RuntimeNotAvailable');
    expect(st.message).toContain('"container"');
  });
});

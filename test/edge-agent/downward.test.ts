/** The downward API in env: fieldRef paths, resourceFieldRef with divisors and fallbacks, HOSTNAME = pod name. */
import path from 'node:path';
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { startAgent } from '../../edge-agent/index.js';
import { resolveEnv, type EnvContext } from '../../edge-agent/pods/env.js';
import type { Container, EnvVar, Pod } from '../../protocol/types.js';
import { FakeMaster, JOIN_TOKEN, memoryLogger, podWith, readText, tempDir, until } from './helpers.js';

const Mi = 2 ** 20;
const limited: Container = { name: 'main', command: ['x'], resources: { requests: { cpu: '250m', memory: '64Mi' }, limits: { cpu: '1500m', memory: '128Mi' } } };
const onlyLimits: Container = { name: 'lim', command: ['x'], resources: { limits: { cpu: '2', memory: '1Gi' } } };
const bare: Container = { name: 'bare', command: ['x'] };
const pod: Pod = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'web-0', namespace: 'shop', uid: 'u-1', labels: { tier: 'front' }, annotations: { note: 'hi' } },
  spec: { nodeName: 'pi-1', containers: [limited, onlyLimits, bare] },
};
const ctx: EnvContext = { pod, desired: {}, nodeName: 'pi-1', hostIP: '10.0.0.7', ports: [], allocatable: { cpuMilli: 3800, memoryBytes: 3000 * Mi } };
const one = (c: Container, valueFrom: EnvVar['valueFrom']) => resolveEnv({ ...c, env: [{ name: 'V', valueFrom }] }, ctx).V;

describe('downward API', () => {
  it.each([
    ['metadata.name', 'web-0'],
    ['metadata.namespace', 'shop'],
    ['metadata.uid', 'u-1'],
    ['spec.nodeName', 'pi-1'],
    ['status.podIP', '10.0.0.7'],
    ['status.hostIP', '10.0.0.7'],
    ["metadata.labels['tier']", 'front'],
    ["metadata.annotations['note']", 'hi'],
    ["metadata.labels['absent']", ''],
  ])('fieldRef %s → %j', (fieldPath, want) => expect(one(bare, { fieldRef: { fieldPath } })).toBe(want));

  it('rejects an unsupported fieldRef with its path', () => {
    expect(() => one(bare, { fieldRef: { fieldPath: 'status.phase' } })).toThrow(/unsupported fieldRef status.phase/);
  });

  it.each([
    ['requests.cpu in cores, rounded up', limited, 'requests.cpu', undefined, '1'],
    ['requests.cpu in millicores', limited, 'requests.cpu', '1m', '250'],
    ['limits.cpu in cores', limited, 'limits.cpu', undefined, '2'],
    ['limits.cpu in millicores', limited, 'limits.cpu', '1m', '1500'],
    ['requests.memory in bytes', limited, 'requests.memory', undefined, String(64 * Mi)],
    ['limits.memory in Mi', limited, 'limits.memory', '1Mi', '128'],
    ['limits.memory in M (decimal), rounded up', limited, 'limits.memory', '1M', String(Math.ceil((128 * Mi) / 1e6))],
    ['a missing request defaults to the limit (cpu)', onlyLimits, 'requests.cpu', '1m', '2000'],
    ['a missing request defaults to the limit (memory)', onlyLimits, 'requests.memory', '1Gi', '1'],
    ['no limit reads node allocatable cpu', bare, 'limits.cpu', '1m', '3800'],
    ['no limit reads node allocatable memory', bare, 'limits.memory', '1Mi', '3000'],
    ['no request and no limit reads 0', bare, 'requests.cpu', '1m', '0'],
  ] as [string, Container, string, string | undefined, string][])('resourceFieldRef: %s', (_n, c, resource, divisor, want) => {
    expect(one(c, { resourceFieldRef: { resource, ...(divisor ? { divisor } : {}) } })).toBe(want);
  });

  it('resourceFieldRef containerName reads another container of the pod', () => {
    expect(one(bare, { resourceFieldRef: { resource: 'limits.memory', containerName: 'main', divisor: '1Mi' } })).toBe('128');
    expect(() => one(bare, { resourceFieldRef: { resource: 'limits.memory', containerName: 'nope' } })).toThrow(/no container "nope"/);
  });

  it('a real process sees HOSTNAME = pod name and the downward values', async () => {
    const master = await new FakeMaster().start();
    const dir = tempDir();
    const agent = await startAgent({ master: master.url, token: JOIN_TOKEN, name: 'pi-down', dataDir: dir, address: '127.0.0.1', logger: memoryLogger() });
    try {
      await until(() => agent.connected, 'connected');
      const out = path.join(dir, 'env.json');
      const p = podWith('downward', {
        command: [process.execPath, '-e', `require('fs').writeFileSync(${JSON.stringify(out)}, JSON.stringify(process.env))`],
        resources: { limits: { memory: '64Mi', cpu: '500m' } },
        env: [
          { name: 'MEM_MI', valueFrom: { resourceFieldRef: { resource: 'limits.memory', divisor: '1Mi' } } },
          { name: 'CPU_M', valueFrom: { resourceFieldRef: { resource: 'requests.cpu', divisor: '1m' } } },
          { name: 'NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
        ],
      }, { restartPolicy: 'Never' });
      await master.desire('pi-down', { generation: 1, pods: [p] });
      const env = JSON.parse(await until(() => readText(out), 'the env dump')) as Record<string, string>;
      expect(env).toMatchObject({ HOSTNAME: 'downward', MEM_MI: '64', CPU_M: '500', NODE: 'pi-down' });
    } finally {
      await agent.stop();
      await master.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** `skiff get` against a real master in-process: several kinds at once, as kubectl takes them. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { rm } from 'node:fs/promises';
import { startMaster, type Master } from '../../master/index.js';
import { main } from '../../cli/main.js';
import { testEngine } from '../helpers/cluster.js';
import { tempDir } from '../helpers/wait.js';

describe('skiff get with several kinds', () => {
  let master: Master;
  let dir: string;
  let out = '';
  let err = '';
  const cli = (...a: string[]) => {
    out = '';
    err = '';
    return main(['--server', master.url, '--token', master.adminToken, ...a], { stdout: (s) => void (out += s), stderr: (s) => void (err += s), readStdin: async () => '', env: {} });
  };

  beforeAll(async () => {
    dir = await tempDir();
    master = await startMaster({ dataDir: join(dir, 'm'), mqttPort: 0, httpPort: -1, mqttHost: '127.0.0.1', quiet: true, engine: testEngine, podSecurityDefault: 'privileged' });
    await master.objects.apply({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' }, spec: { replicas: 0, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'w', command: ['true'] }] } } } });
    await master.objects.apply({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ port: 80 }] } });
  });
  afterAll(async () => {
    await master?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('prints one table per kind, separated by a blank line, names as kind/name (as kubectl)', async () => {
    expect(await cli('get', 'deploy,svc')).toBe(0);
    const [deploys, services] = out.split('\n\n');
    expect(deploys).toMatch(/^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE\ndeployment\.apps\/web\s+0\/0\s/);
    expect(services).toMatch(/^NAME\s+TYPE\s+CLUSTER-IP\s+EXTERNAL-IP\s+PORT\(S\)\s+AGE\nservice\/web\s+ClusterIP\s/);
  });

  it('returns one List for -o json', async () => {
    expect(await cli('get', 'deployments,services', '-o', 'json')).toBe(0);
    const list = JSON.parse(out);
    expect(list.kind).toBe('List');
    expect(list.items.map((o: { kind: string }) => o.kind)).toEqual(['Deployment', 'Service']);
  });

  it('refuses names or --watch with several kinds, and names an unknown one', async () => {
    expect(await cli('get', 'deploy,svc', 'web')).toBe(1);
    expect(err).toContain('names need a single kind');
    expect(await cli('get', 'deploy,gizmos')).toBe(1);
    expect(err).toContain('unknown kind "gizmos"');
  });
});

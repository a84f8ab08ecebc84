/**
 * A real `skiff master` process with its default data dir adds its context "skiff" to the user's client
 * config — its mqtts:// URL and the cluster CA — keeping the contexts already there (it used to copy its
 * config only when there was none), and plain `skiff` then talks to it over TLS.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ChildProcess } from 'node:child_process';
import { freePort, requireBuild, skiff, startProcess, stopProcess, skiffBin } from '../helpers/procs.js';
import { eventually, tempDir } from '../helpers/wait.js';

describe('skiff master merges its context into the user config', () => {
  let master: ChildProcess | undefined;
  afterAll(async () => {
    if (master) await stopProcess(master);
  });

  it('keeps the other contexts, makes "skiff" current, and plain skiff works', async () => {
    requireBuild();
    const home = await tempDir('skiff-home-');
    const config = join(home, '.skiff', 'config.json');
    mkdirSync(join(home, '.skiff'), { recursive: true });
    const mine = { apiVersion: 'v1', kind: 'Config', 'current-context': 'mine', clusters: [{ name: 'mine', cluster: { server: 'mqtt://10.0.0.9:1883' } }], users: [{ name: 'mine', user: { token: 't' } }], contexts: [{ name: 'mine', context: { cluster: 'mine', user: 'mine' } }] };
    writeFileSync(config, JSON.stringify(mine));
    const port = await freePort();
    const tlsPort = await freePort();
    master = startProcess([skiffBin, 'master', '--mqtt-port', String(port), '--mqtts-port', String(tlsPort), '--http-port=-1', '--no-mdns'], join(home, 'master.log'), { HOME: home });
    const written = await eventually(() => {
      const c = JSON.parse(readFileSync(config, 'utf8'));
      return c['current-context'] === 'skiff' ? c : undefined;
    }, 'the context written', 30_000);
    expect(written.contexts.map((c: { name: string }) => c.name)).toEqual(['mine', 'skiff']);
    // Over TLS, with the cluster CA in the context: plain `skiff` below checks the master's certificate with it.
    const cluster = written.clusters.find((c: { name: string }) => c.name === 'skiff').cluster;
    expect(cluster.server).toBe(`mqtts://127.0.0.1:${tlsPort}`);
    expect(Buffer.from(cluster['certificate-authority-data'], 'base64').toString()).toContain('-----BEGIN CERTIFICATE-----');
    const env = { HOME: home, SKIFF_CONFIG: '', SKIFF_SERVER: '', SKIFF_TOKEN: '' };
    const r = await eventually(async () => {
      const x = await skiff(['get', 'ns', 'default', '-o', 'name'], env);
      return x.code === 0 ? x : undefined;
    }, 'the master answers', 30_000);
    expect(r.stdout).toBe('namespace/default\n');
    expect((await skiff(['config', 'get-contexts', '-o', 'name'], env)).stdout).toBe('mine\nskiff\n');
  });
});

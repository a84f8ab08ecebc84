/** `skiff nodes upgrade` against a fake master: what it sends, how it prints progress, its exit codes and errors. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleHeaderLine } from '../../protocol/bundle.js';
import type { UpgradeProgress } from '../../protocol/upgrade.js';
import { runCli, startFakeMaster, type FakeMaster } from './helpers.js';

describe('skiff nodes upgrade', () => {
  let m: FakeMaster;
  const dir = mkdtempSync(join(tmpdir(), 'skiff-cli-upgrade-'));
  const bundle = join(dir, 'skiff-agent.mjs');
  writeFileSync(bundle, `#!/usr/bin/env node\n${bundleHeaderLine('0.2.0')}\n`);
  const cli = (args: string[]) => runCli(['--server', m.url, '--token', m.token, 'nodes', 'upgrade', ...args]);
  const p = (node: string, phase: UpgradeProgress['phase'], extra: Partial<UpgradeProgress> = {}): UpgradeProgress => ({ node, phase, version: '0.2.0', ...extra });

  beforeAll(async () => (m = await startFakeMaster()));
  afterAll(() => m.close());

  it('sends the bundle and the targets, prints each node as kubectl rollout does, exits 0 when all upgraded', async () => {
    m.handle(() => [
      { progress: p('n1', 'Downloading', { percent: 40 }) },
      { progress: p('n1', 'Restarting') },
      { progress: p('n1', 'Upgraded') },
      { progress: p('n2', 'Unchanged') },
      { result: { version: '0.2.0', nodes: { n1: p('n1', 'Upgraded'), n2: p('n2', 'Unchanged') } } },
      { done: true },
    ]);
    const r = await cli(['n1', 'node/n2', '--bundle', bundle, '--max-unavailable', '2', '--timeout', '2m', '--trial', '90s']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('node n1: downloading 40%\nnode n1: restarting into v0.2.0\nnode n1: upgraded to v0.2.0\nnode n2: already at v0.2.0\n');
    const req = m.requests.at(-1)!;
    expect(req).toMatchObject({ verb: 'upgrade', nodes: ['n1', 'n2'], maxUnavailable: 2, timeoutSeconds: 120, trialSeconds: 90 });
    expect(Buffer.from(req.bundle as Uint8Array).toString()).toContain('skiff-agent-bundle');
  });

  it('a rollback or a node never reached: printed, exit 1', async () => {
    m.handle(() => [
      { progress: p('n1', 'RolledBack', { version: '0.1.0', message: 'it cannot start: boom' }) },
      { result: { nodes: { n1: p('n1', 'RolledBack', { version: '0.1.0', message: 'it cannot start: boom' }), n2: p('n2', 'Pending') } } },
      { done: true },
    ]);
    const r = await cli(['-l', 'zone=attic', '--bundle', bundle]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('node n1: rolled back, still v0.1.0: it cannot start: boom\nnode n2: not upgraded (the rollout stopped before it)\n');
    expect(r.stderr).toBe('error: 2 of 2 node(s) not upgraded\n');
    expect(m.requests.at(-1)).toMatchObject({ selector: 'zone=attic' });
  });

  it.each([
    [['--all'], '--bundle FILE is required'],
    [['--bundle', bundle], 'name the nodes one way: NODE..., -l SELECTOR or --all'],
    [['n1', '--all', '--bundle', bundle], 'name the nodes one way: NODE..., -l SELECTOR or --all (got NODE names and --all)'],
    [['--all', '--bundle', join(dir, 'none.mjs')], '--bundle: cannot read'],
    [['--all', '--bundle', '/etc/hostname'], 'not a skiff-agent bundle'],
    [['--all', '--bundle', bundle, '--max-unavailable', '0'], '--max-unavailable: must be at least 1'],
    [['--all', '--bundle', bundle, '--timeout', 'soon'], '--timeout: must be a duration'],
  ])('refuses %j before sending anything', async (args, message) => {
    const before = m.requests.length;
    const r = await cli(args);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(message);
    expect(m.requests.length).toBe(before);
  });

  it('an unknown subcommand', async () => {
    const r = await runCli(['--server', m.url, '--token', m.token, 'nodes', 'reboot']);
    expect(r.stderr).toBe('error: skiff nodes: unknown subcommand "reboot"; subcommands: upgrade\n');
  });
});

/** The agent's side of an upgrade, in memory and temp files: the RPC receiver's checks, the trial's file moves, the condition. */
import { afterEach, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleHeaderLine, parseBundleHeader } from '../../protocol/bundle.js';
import { UPGRADE_CHUNK_BYTES } from '../../protocol/upgrade.js';
import { UpgradeReceiver } from '../../edge-agent/upgrade/receiver.js';
import { promote, readUpgradeState, rollBack, upgradeCondition, upgradePaths, type UpgradeState } from '../../edge-agent/upgrade/state.js';
import { AGENT_VERSION } from '../../edge-agent/version.js';

const quiet = { info() {}, warn() {}, error() {}, debug() {} };
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** A bundle of `size` bytes or more with a header for `version`. */
function bundleBytes(version: string, size = 150_000): Buffer {
  const head = `#!/usr/bin/env node\n${bundleHeaderLine(version)}\n`;
  return Buffer.from(head + '/' + '*'.repeat(Math.max(0, size - head.length - 4)) + '*/\n');
}

function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'skiff-upgrade-'));
  dirs.push(dir);
  const bundle = join(dir, 'skiff-agent.mjs');
  writeFileSync(bundle, bundleBytes(AGENT_VERSION, 100));
  let restarts = 0;
  const r = new UpgradeReceiver(bundle, () => restarts++, quiet);
  return { dir, bundle, r, restarts: () => restarts };
}

/** Sends a whole bundle through begin and chunk steps. */
async function send(r: UpgradeReceiver, b: Buffer, version: string): Promise<void> {
  const chunks = Math.ceil(b.length / UPGRADE_CHUNK_BYTES);
  await r.handle({ step: 'begin', version, sha256: sha(b), size: b.length, chunks });
  for (let i = 0; i < chunks; i++) await r.handle({ step: 'chunk', sha256: sha(b), index: i, data: b.subarray(i * UPGRADE_CHUNK_BYTES, (i + 1) * UPGRADE_CHUNK_BYTES) });
}

describe('bundle header', () => {
  it.each([
    [`#!/usr/bin/env node\n${bundleHeaderLine('0.2.0')}\n`, { version: '0.2.0', format: 1 }],
    ['console.log(1)\n', /not a skiff-agent bundle/],
    ['// skiff-agent-bundle {nope\n', /not JSON/],
    ['// skiff-agent-bundle {"version":"../../etc","format":1}\n', /version: must be/],
    ['// skiff-agent-bundle {"version":"1.0","format":2}\n', /format: this master knows format 1, got 2/],
  ])('%j', (text, want) => {
    if (want instanceof RegExp) expect(() => parseBundleHeader(Buffer.from(text))).toThrow(want);
    else expect(parseBundleHeader(Buffer.from(text))).toEqual(want);
  });
});

describe('upgrade receiver', () => {
  it('writes a verified candidate beside the bundle, records the trial, and asks for a restart after answering', async () => {
    const { bundle, r, restarts } = setup();
    const b = bundleBytes('9.9.9');
    await send(r, b, '9.9.9');
    const res = await r.handle({ step: 'commit', sha256: sha(b), trialSeconds: 30 });
    expect(res).toEqual({ restarting: true, from: AGENT_VERSION, to: '9.9.9' });
    const p = upgradePaths(bundle);
    expect(readFileSync(p.next).equals(b)).toBe(true);
    expect(readFileSync(bundle).equals(b)).toBe(false); // the known-good bundle stays until the candidate rejoined
    expect(readUpgradeState(p)).toMatchObject({ phase: 'trial', from: AGENT_VERSION, to: '9.9.9', sha256: sha(b), attempts: 0, trialMs: 30_000 });
    await new Promise((res) => setTimeout(res, 150));
    expect(restarts()).toBe(1);
    // No second upgrade while one is on trial.
    await expect(r.handle({ step: 'begin', version: '9.9.10', sha256: sha(b), size: b.length, chunks: 3 })).rejects.toThrow('an upgrade is on trial');
  });

  it.each([
    [{ step: 'begin', version: '1.0', sha256: 'abc', size: 10, chunks: 1 }, 'sha256: must be 64 lowercase hex digits'],
    [{ step: 'begin', version: 'a b', sha256: 'a'.repeat(64), size: 10, chunks: 1 }, 'version: must be an agent version string'],
    [{ step: 'begin', version: '1.0', sha256: 'a'.repeat(64), size: 100_000_000, chunks: 1 }, 'size: must be an integer in'],
    [{ step: 'begin', version: '1.0', sha256: 'a'.repeat(64), size: 200_000, chunks: 2 }, 'chunks: must be ceil(size / 65536) = 4'],
    [{ step: 'chunk', sha256: 'a'.repeat(64), index: 0, data: Buffer.alloc(1) }, 'chunk for a download that did not begin'],
    [{ step: 'commit', sha256: 'a'.repeat(64) }, 'commit of a download that did not begin'],
    [{ step: 'reboot' }, 'step: must be begin, chunk or commit'],
  ])('refuses %j', async (params, message) => {
    await expect(setup().r.handle(params)).rejects.toThrow(message);
  });

  it('refuses a wrong chunk size, a missing chunk, a digest that does not match and a header that says another version', async () => {
    const { r } = setup();
    const b = bundleBytes('2.0.0');
    await r.handle({ step: 'begin', version: '2.0.0', sha256: sha(b), size: b.length, chunks: 3 });
    await expect(r.handle({ step: 'chunk', sha256: sha(b), index: 0, data: Buffer.alloc(10) })).rejects.toThrow('chunk 0 must be 65536 bytes, got 10');
    await expect(r.handle({ step: 'chunk', sha256: sha(b), index: 3, data: Buffer.alloc(10) })).rejects.toThrow('index: must be an integer in [0, 2]');
    await expect(r.handle({ step: 'commit', sha256: sha(b) })).rejects.toThrow('chunk 0 is missing');
    const forged = Buffer.from(b);
    forged[forged.length - 5] ^= 1;
    const s2 = setup();
    const chunks = Math.ceil(b.length / UPGRADE_CHUNK_BYTES);
    await s2.r.handle({ step: 'begin', version: '2.0.0', sha256: sha(b), size: b.length, chunks });
    for (let i = 0; i < chunks; i++) await s2.r.handle({ step: 'chunk', sha256: sha(b), index: i, data: forged.subarray(i * UPGRADE_CHUNK_BYTES, (i + 1) * UPGRADE_CHUNK_BYTES) });
    await expect(s2.r.handle({ step: 'commit', sha256: sha(b) })).rejects.toThrow('sha256 mismatch');
    const s3 = setup();
    await send(s3.r, b, '2.0.1');
    await expect(s3.r.handle({ step: 'commit', sha256: sha(b) })).rejects.toThrow('the bundle says version 2.0.0, the master announced 2.0.1');
    expect(existsSync(upgradePaths(s3.bundle).next)).toBe(false);
  });

  it('an agent run from a checkout takes no upgrade', async () => {
    await expect(new UpgradeReceiver(undefined, () => {}, quiet).handle({ step: 'begin' })).rejects.toThrow('does not run from a bundle');
  });
});

describe('trial outcomes', () => {
  const trial: Extract<UpgradeState, { phase: 'trial' }> = { phase: 'trial', from: '1.0.0', to: '2.0.0', sha256: 'a'.repeat(64), attempts: 1, trialMs: 60_000, at: '2026-12-01T00:00:00.000Z' };

  it('promote: the candidate becomes the bundle, the old one is kept as .prev', async () => {
    const { bundle } = setup();
    const p = upgradePaths(bundle);
    const old = readFileSync(bundle);
    writeFileSync(p.next, 'new');
    await promote(p, trial);
    expect(readFileSync(bundle, 'utf8')).toBe('new');
    expect(readFileSync(p.prev).equals(old)).toBe(true);
    expect(existsSync(p.next)).toBe(false);
    expect(upgradeCondition(readUpgradeState(p))).toMatchObject({ type: 'AgentUpgrade', status: 'True', reason: 'Upgraded', message: 'upgraded from 1.0.0 to 2.0.0' });
  });

  it('rollBack: the candidate goes, the bundle is untouched, the reason is reported', async () => {
    const { bundle } = setup();
    const p = upgradePaths(bundle);
    const old = readFileSync(bundle);
    writeFileSync(p.next, 'broken');
    await rollBack(p, trial, 'it cannot start: boom');
    expect(existsSync(p.next)).toBe(false);
    expect(readFileSync(bundle).equals(old)).toBe(true);
    expect(upgradeCondition(readUpgradeState(p))).toMatchObject({ status: 'False', reason: 'RolledBack', message: '2.0.0 rolled back, running 1.0.0: it cannot start: boom' });
    expect(upgradeCondition(undefined)).toBeUndefined();
    expect(upgradeCondition(trial)).toMatchObject({ status: 'Unknown', reason: 'Trial' });
  });
});

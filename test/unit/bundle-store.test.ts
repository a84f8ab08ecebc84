/** The master's agent bundles (master/upgrade/store.ts) and who may upgrade (admin only). */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, rmSync, statSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleHeaderLine } from '../../protocol/bundle.js';
import { maxBundleBytes } from '../../protocol/upgrade.js';
import { BundleStore } from '../../master/upgrade/store.js';
import { authorize } from '../../master/api/access.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const bundle = (v: string) => Buffer.from(`#!/usr/bin/env node\n${bundleHeaderLine(v)}\nexport {};\n`);

describe('bundle store', () => {
  it('stores by sha256 (0600), reads the version from the header, keeps the newest three', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'skiff-bundles-'));
    dirs.push(dir);
    const s = new BundleStore(dir);
    const a = await s.put(bundle('1.0.0'));
    expect(a.version).toBe('1.0.0');
    expect(a.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(statSync(join(dir, 'bundles', `${a.sha256}.mjs`)).mode & 0o777).toBe(0o600);
    expect((await s.put(bundle('1.0.0'))).sha256).toBe(a.sha256); // the same bytes: the same file
    for (const [i, v] of ['2.0.0', '3.0.0', '4.0.0'].entries()) {
      const b = await s.put(bundle(v));
      utimesSync(join(dir, 'bundles', `${b.sha256}.mjs`), new Date(), new Date(Date.now() + (i + 1) * 1000));
    }
    await s.put(bundle('5.0.0'));
    expect(readdirSync(join(dir, 'bundles')).length).toBe(3);
  });

  it.each([
    [Buffer.alloc(0), 'bundle: must be 1 byte to'],
    [Buffer.alloc(maxBundleBytes + 1), 'bundle: must be 1 byte to'],
    [Buffer.from('console.log(1)'), 'not a skiff-agent bundle'],
  ])('refuses %#', async (bytes, message) => {
    const dir = mkdtempSync(join(tmpdir(), 'skiff-bundles-'));
    dirs.push(dir);
    await expect(new BundleStore(dir).put(bytes)).rejects.toThrow(message);
  });

  it('only admin access may upgrade nodes', () => {
    expect(() => authorize({ role: 'admin', name: 'admin' }, { verb: 'upgrade' })).not.toThrow();
    expect(() => authorize({ role: 'user', name: 'ops', access: 'admin' }, { verb: 'upgrade' })).not.toThrow();
    expect(() => authorize({ role: 'user', name: 'dev', access: 'edit' }, { verb: 'upgrade' })).toThrow('may not upgrade');
    expect(() => authorize({ role: 'node', name: 'pi' }, { verb: 'upgrade' })).toThrow('no access to the API');
    expect(() => authorize({ role: 'user', name: 'shop-admin', access: 'admin', namespace: 'shop' }, { verb: 'upgrade' })).toThrow('acts on the whole cluster');
  });
});

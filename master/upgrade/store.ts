/**
 * Agent bundles the master holds for fleet upgrades: content-addressed files `DATA/bundles/<sha256>.mjs` (0600),
 * at most maxBundleBytes each, the newest KEEP kept (older ones deleted as a new one arrives). Admin-only: the API
 * verb that stores one (`upgrade`) checks access before calling `put`.
 */
import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { SkiffError } from '../../protocol/errors.js';
import { parseBundleHeader } from '../../protocol/bundle.js';
import { maxBundleBytes } from '../../protocol/upgrade.js';

/** A stored bundle. */
export interface StoredBundle {
  sha256: string;
  version: string;
  bytes: Buffer;
}

/** How many bundles stay on disk (the current one and the ones before it, for a manual downgrade). */
const KEEP = 3;

/** The bundle store of one data dir. */
export class BundleStore {
  private readonly dir: string;

  constructor(dataDir: string) {
    this.dir = join(dataDir, 'bundles');
  }

  /** Checks and stores a bundle (a second put of the same bytes changes nothing); throws SKIFF_ERR_BAD_REQUEST naming the rule. */
  async put(bytes: Uint8Array): Promise<StoredBundle> {
    if (bytes.length === 0 || bytes.length > maxBundleBytes) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `upgrade: bundle: must be 1 byte to ${maxBundleBytes} bytes, got ${bytes.length}`);
    let version: string;
    try {
      version = parseBundleHeader(bytes).version;
    } catch (err) {
      throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `upgrade: bundle: ${(err as Error).message}`);
    }
    const buf = Buffer.from(bytes);
    const sha256 = createHash('sha256').update(buf).digest('hex');
    await fsp.mkdir(this.dir, { recursive: true, mode: 0o700 });
    const file = join(this.dir, `${sha256}.mjs`);
    const have = await fsp.stat(file).catch(() => undefined);
    if (have?.size !== buf.length) {
      const tmp = `${file}.tmp-${process.pid}`;
      await fsp.writeFile(tmp, buf, { mode: 0o600 });
      await fsp.rename(tmp, file);
    } else await fsp.utimes(file, new Date(), new Date()); // the newest again: kept by the pruning below
    await this.prune();
    return { sha256, version, bytes: buf };
  }

  /** Deletes all but the KEEP most recently stored bundles. */
  private async prune(): Promise<void> {
    const names = (await fsp.readdir(this.dir)).filter((n) => /^[0-9a-f]{64}\.mjs$/.test(n));
    const dated = await Promise.all(names.map(async (n) => ({ n, t: (await fsp.stat(join(this.dir, n))).mtimeMs })));
    for (const { n } of dated.sort((a, b) => b.t - a.t).slice(KEEP)) await fsp.rm(join(this.dir, n), { force: true });
  }
}

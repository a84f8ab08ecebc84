/**
 * Idempotent writes into a root filesystem (a mounted SD card, or `/`): each file, directory and link is written
 * only when it differs from what is there (content, mode, link target), so a second `flash` changes nothing and
 * says so. Files are written atomically (tmp + fsync + rename).
 */
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../fsutil.js';

/** What one write did. */
export interface Change {
  /** The path inside the root (`/etc/hostname`). */
  path: string;
  action: 'created' | 'updated' | 'unchanged' | 'removed';
}

/** Writes below `root`; records every change. */
export class RootWriter {
  readonly changes: Change[] = [];

  constructor(readonly root: string) {}

  /** The host path of an absolute path inside the root. */
  at(inside: string): string {
    return path.join(this.root, inside);
  }

  /** A directory (and its parents), with `mode` on the last one. */
  async dir(inside: string, mode: number): Promise<void> {
    const p = this.at(inside);
    const st = await fsp.stat(p).catch(() => undefined);
    if (st?.isDirectory() && (st.mode & 0o7777) === mode) return;
    await fsp.mkdir(p, { recursive: true, mode });
    await fsp.chmod(p, mode);
    this.changes.push({ path: inside, action: st ? 'updated' : 'created' });
  }

  /** A file with exactly `content` and `mode`. */
  async file(inside: string, content: Uint8Array | string, mode: number): Promise<void> {
    const p = this.at(inside);
    const want = typeof content === 'string' ? Buffer.from(content) : Buffer.from(content);
    const [have, st] = await Promise.all([fsp.readFile(p).catch(() => undefined), fsp.lstat(p).catch(() => undefined)]);
    if (have?.equals(want) && st && !st.isSymbolicLink() && (st.mode & 0o7777) === mode) return this.same(inside);
    await fsp.mkdir(path.dirname(p), { recursive: true, mode: 0o755 });
    await writeFileAtomic(p, want, mode);
    this.changes.push({ path: inside, action: st ? 'updated' : 'created' });
  }

  /** A symbolic link `inside` → `target` (an absolute path inside the root, as systemctl enable makes them). */
  async link(inside: string, target: string): Promise<void> {
    const p = this.at(inside);
    const have = await fsp.readlink(p).catch(() => undefined);
    if (have === target) return this.same(inside);
    await fsp.mkdir(path.dirname(p), { recursive: true, mode: 0o755 });
    await fsp.rm(p, { force: true });
    await fsp.symlink(target, p);
    this.changes.push({ path: inside, action: have === undefined ? 'created' : 'updated' });
  }

  /** Removes a file, link or tree if it is there. */
  async remove(inside: string): Promise<void> {
    const p = this.at(inside);
    if (!(await fsp.lstat(p).catch(() => undefined))) return;
    await fsp.rm(p, { recursive: true, force: true });
    this.changes.push({ path: inside, action: 'removed' });
  }

  private same(inside: string): void {
    this.changes.push({ path: inside, action: 'unchanged' });
  }

  /** True when something was written or removed. */
  get changed(): boolean {
    return this.changes.some((c) => c.action !== 'unchanged');
  }
}

/** Small file helpers: atomic writes (tmp + fsync + rename + fsync dir), so a power cut never leaves half a file. */
import { promises as fsp, constants } from 'node:fs';
import path from 'node:path';

/** Writes `data` to `file` atomically with the given mode: a reader sees the old or the new file, never a mix. */
export async function writeFileAtomic(file: string, data: Uint8Array | string, mode = 0o644): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  const fh = await fsp.open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC, mode);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await fsp.chmod(tmp, mode); // the umask may have narrowed or widened O_CREAT's mode
  await fsp.rename(tmp, file);
  await syncDir(path.dirname(file));
}

/**
 * writeFileAtomic, unless the file already holds exactly `data` (and has `mode`): an SD card wears by writes, and
 * most "changes" (a retained message replayed on reconnect, a pod adopted with the state it had) change nothing.
 * Resolves true when it wrote.
 */
export async function writeIfChanged(file: string, data: Uint8Array | string, mode = 0o644): Promise<boolean> {
  const want = typeof data === 'string' ? Buffer.from(data) : data;
  try {
    const [have, st] = await Promise.all([fsp.readFile(file), fsp.stat(file)]);
    if (Buffer.compare(have, want) === 0 && (st.mode & 0o777) === mode) return false;
  } catch {
    // absent or unreadable: write it
  }
  await writeFileAtomic(file, want, mode);
  return true;
}

/** fsyncs a directory so a rename in it survives a power cut; best effort (not every fs allows it). */
async function syncDir(dir: string): Promise<void> {
  try {
    const dh = await fsp.open(dir, constants.O_RDONLY);
    try {
      await dh.sync();
    } finally {
      await dh.close();
    }
  } catch {
    /* some filesystems refuse fsync on a directory; the rename is still atomic */
  }
}

/** Reads a file, or undefined when it does not exist. */
export async function readIfExists(file: string): Promise<Buffer | undefined> {
  try {
    return await fsp.readFile(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** Deletes a file or tree; silent when it is already gone. */
export async function remove(p: string): Promise<void> {
  await fsp.rm(p, { recursive: true, force: true });
}

/**
 * The master's data dir is private: it holds the store (every Secret), the admin and join tokens and
 * the client config. Directories are 0700 and files 0600 whatever they were before — a dir made by
 * hand as 0755 (`/var/lib/skiff`) or a store written by an older Skiff — and the store file is made
 * 0600 before SQLite opens it, because SQLite creates its -wal and -shm files with the database
 * file's permissions.
 */
import { chmodSync, closeSync, lstatSync, mkdirSync, openSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** Mode of every directory in the data dir. */
export const dirMode = 0o700;

/** Mode of every file in the data dir. */
export const fileMode = 0o600;

/** Creates `dir` if needed and makes it and everything in it private (symlinks are left alone, not followed). */
export function securePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: dirMode });
  tighten(dir);
}

function tighten(path: string): void {
  const st = lstatSync(path);
  if (st.isSymbolicLink()) return;
  if (st.isDirectory()) {
    if ((st.mode & 0o777) !== dirMode) chmodSync(path, dirMode);
    for (const name of readdirSync(path)) tighten(join(path, name));
  } else if ((st.mode & 0o777 & ~fileMode) !== 0) chmodSync(path, fileMode);
}

/** Creates `path` empty with mode 0600 unless it exists, so SQLite (and its -wal, -shm) inherit 0600. */
export function createPrivateFile(path: string): void {
  closeSync(openSync(path, 'a', fileMode));
}

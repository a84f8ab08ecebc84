/**
 * `cp` between the CLI and a pod: the bounds and the rule every entry path must meet, checked on both
 * ends (a copy's entries come from the other side, so each side checks what it is about to write).
 */
import { SkiffError } from './errors.js';
import type { CopyEntry } from './messages.js';

/** The most bytes one copy moves: 64 MiB (an edge board's disk and link are small). */
export const maxCopyBytes = 64 << 20;
/** The most files and directories one copy holds: 10,000. */
export const maxCopyEntries = 10_000;

/** An entry from the other side: a relative path without `..`, `.` or empty parts, a type, a mode and (files) a size. */
export function checkCopyEntry(e: unknown): CopyEntry {
  const x = (e ?? {}) as Record<string, unknown>;
  const bad = (rule: string) => new SkiffError('SKIFF_ERR_BAD_REQUEST', `cp entry: ${rule}`);
  if (e === null || typeof e !== 'object') throw bad('must be a map');
  if (typeof x.path !== 'string' || x.path === '' || x.path.length > 4096 || x.path.startsWith('/') || x.path.includes('\0') || x.path.split('/').some((c) => c === '..' || c === '' || c === '.'))
    throw bad(`path: must be a relative path without "..", got ${JSON.stringify(x.path)}`);
  if (x.type !== 'file' && x.type !== 'dir') throw bad('type: must be file or dir');
  if (!Number.isInteger(x.mode)) throw bad('mode: must be an integer');
  if (x.type === 'file' && (!Number.isSafeInteger(x.size) || (x.size as number) < 0)) throw bad('size: must be an integer ≥ 0');
  return { path: x.path, type: x.type, mode: (x.mode as number) & 0o777, ...(x.type === 'file' ? { size: x.size as number } : {}) };
}

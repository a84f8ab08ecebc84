/**
 * Where secret volumes live: in memory when the OS allows, as the kubelet keeps them on tmpfs, so a Secret's
 * files never reach the board's SD card (and vanish at a power cut). On Linux that is `/dev/shm` (tmpfs on every
 * distribution): the agent keeps `/dev/shm/skiff-agent-<hash of its data dir>/` (0711: pods running as another
 * user may pass through it to their own directory, nobody may list it), one directory per pod inside (0711), and
 * one per secret volume (0700, owned by the user the pod runs as; files 0600).
 *
 * /dev/shm is writable by every local user, so the agent never trusts what it finds there: its base must be a real
 * directory (not a symlink) owned by the agent and writable by nobody else, or it is not used — secret volumes then
 * stay on disk under DATA/pods/<uid>/volumes (0600 files in a 0700/0711 tree) and the agent logs why once.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/** TMPFS_MAGIC (linux/magic.h): the f_type statfs reports for tmpfs. */
const TMPFS_MAGIC = 0x01021994;

/** The shared-memory mount every Linux distribution has. */
const shm = '/dev/shm';

/** Why tmpfs is not used, or the base directory for this agent's secret volumes. */
export type SecretBase = { dir: string } | { why: string };

function isTmpfs(p: string): boolean {
  try {
    // statfsSync: Node 18.15+; older Nodes fall back to disk.
    const statfs = (fs as unknown as { statfsSync?: (p: string) => { type: number } }).statfsSync;
    return statfs !== undefined && statfs(p).type === TMPFS_MAGIC;
  } catch {
    return false;
  }
}

/** The directory is ours: a real directory, owned by this process's user, writable by no one else. */
function ours(dir: string): boolean {
  const st = fs.lstatSync(dir, { throwIfNoEntry: false });
  const uid = process.getuid?.();
  return !!st && st.isDirectory() && !st.isSymbolicLink() && (uid === undefined || st.uid === uid) && (st.mode & 0o022) === 0;
}

/** Finds (or makes) this agent's tmpfs base for secret volumes; `dataDir` tells agents on one host apart. */
export function secretBase(dataDir: string, root = shm): SecretBase {
  if (process.platform !== 'linux') return { why: `${process.platform} has no ${root}` };
  if (!isTmpfs(root)) return { why: `${root} is not a tmpfs` };
  const dir = path.join(root, `skiff-agent-${createHash('sha256').update(path.resolve(dataDir)).digest('hex').slice(0, 16)}`);
  try {
    fs.mkdirSync(dir, { mode: 0o711 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') return { why: `cannot create ${dir}: ${(err as Error).message}` };
  }
  if (!ours(dir)) return { why: `${dir} exists and is not a private directory of this agent's user (left by someone else?)` };
  fs.chmodSync(dir, 0o711);
  return { dir };
}

/** The tmpfs directory of one pod's secret volumes. */
export function podSecretDir(base: string, podUid: string): string {
  return path.join(base, podUid);
}

/** Removes the tmpfs directories of pods this node no longer has (left by a stop the agent did not see through). */
export async function sweepSecretDirs(base: string, keep: (podUid: string) => boolean): Promise<number> {
  let removed = 0;
  for (const name of await fs.promises.readdir(base).catch(() => [] as string[]))
    if (!keep(name)) {
      await fs.promises.rm(path.join(base, name), { recursive: true, force: true });
      removed++;
    }
  return removed;
}

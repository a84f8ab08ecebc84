/**
 * Writes a set of files into a directory so readers never see a half-updated set: kubelet's AtomicWriter
 * (pkg/volume/util/atomic_writer.go). The files live in a fresh timestamped directory `..<time>`; the symlink
 * `..data` points at the current one and is swapped with one rename; each top-level name the user sees is a
 * symlink through `..data`. A reader holding `..data/x` and `..data/y` always sees one version of both.
 *
 *   vol/..2026_11_27_13_20_01.123456/app.yaml      the files of this version
 *   vol/..data -> ..2026_11_27_13_20_01.123456      swapped atomically on update
 *   vol/app.yaml -> ..data/app.yaml                 what the process opens
 */
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { SkiffError } from '../../protocol/errors.js';

/** One file of a projected volume: path relative to the volume, bytes, mode. */
export interface ProjectedFile {
  path: string;
  data: Buffer;
  mode: number;
}

const DATA = '..data';

/** Rejects paths that could escape the volume or collide with the `..` bookkeeping (kubelet's validatePath). */
export function checkProjectedPath(p: string): void {
  const parts = p.split('/');
  if (p === '' || path.isAbsolute(p) || parts.includes('..') || parts.includes('') || p.startsWith('..'))
    throw new SkiffError('SKIFF_ERR_VALIDATION', `volume item path "${p}" must be relative, without ".." or empty elements, and not start with ".."`);
}

/** A stamp for the version directory: sortable, unique within the process. */
let seq = 0;
function versionName(): string {
  const iso = new Date().toISOString().replace(/[-:T]/g, '_').replace('Z', '');
  return `..${iso}.${process.pid}.${++seq}`;
}

/** Replaces the symlink `link` by one pointing at `target`, atomically (new link + rename). */
async function swapLink(link: string, target: string): Promise<void> {
  const tmp = `${link}_tmp`;
  await fsp.rm(tmp, { force: true });
  await fsp.symlink(target, tmp);
  await fsp.rename(tmp, link);
}

/** The version directory `..data` points at, or undefined. */
async function currentVersion(dir: string): Promise<string | undefined> {
  try {
    return await fsp.readlink(path.join(dir, DATA));
  } catch {
    return undefined;
  }
}

/** How a projected volume's directories are made: their mode, and the user that owns everything (a pod's runAsUser). */
export interface ProjectedOptions {
  /** The volume directory's mode (0755 for a ConfigMap; 0700 for a Secret). */
  dirMode?: number;
  owner?: { uid: number; gid: number };
}

/** Writes `files` as the new content of `dir` (created if missing), atomically; old names disappear. */
export async function writeProjected(dir: string, files: ProjectedFile[], opts: ProjectedOptions = {}): Promise<void> {
  for (const f of files) checkProjectedPath(f.path);
  const dirMode = opts.dirMode ?? 0o755;
  const own = async (p: string) => {
    if (opts.owner) await fsp.lchown(p, opts.owner.uid, opts.owner.gid);
  };
  await fsp.mkdir(dir, { recursive: true, mode: dirMode });
  await fsp.chmod(dir, dirMode);
  await own(dir);
  const old = await currentVersion(dir);
  const version = versionName();
  const vdir = path.join(dir, version);
  await fsp.mkdir(vdir, { mode: dirMode });
  await fsp.chmod(vdir, dirMode);
  await own(vdir);
  for (const f of files) {
    const file = path.join(vdir, f.path);
    await fsp.mkdir(path.dirname(file), { recursive: true, mode: dirMode });
    await own(path.dirname(file));
    await fsp.writeFile(file, f.data, { mode: f.mode });
    await fsp.chmod(file, f.mode); // the umask may have narrowed the mode
    await own(file);
  }
  await swapLink(path.join(dir, DATA), version);
  const top = new Set(files.map((f) => f.path.split('/')[0]));
  for (const name of top) {
    const link = path.join(dir, name);
    const want = path.join(DATA, name);
    if ((await fsp.readlink(link).catch(() => undefined)) !== want) await swapLink(link, want);
  }
  // Names the previous version had and this one does not: their links now dangle; remove them, then the old files.
  for (const name of await fsp.readdir(dir))
    if (!name.startsWith('..') && !top.has(name)) {
      const target = await fsp.readlink(path.join(dir, name)).catch(() => undefined);
      if (target?.startsWith(`${DATA}/`)) await fsp.rm(path.join(dir, name), { force: true });
    }
  if (old && old !== version) await fsp.rm(path.join(dir, old), { recursive: true, force: true });
}

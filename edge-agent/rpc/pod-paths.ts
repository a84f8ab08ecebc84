/**
 * Which files of this node a process pod's container owns, for `cp`. A process container has no
 * filesystem of its own, so Skiff defines its root as what it was given: its workingDir, and its
 * volumes at their mountPaths (a mountPath maps to the volume's directory, honouring subPath, as
 * SKIFF_VOLUME_<NAME> does for the process). A relative path is relative to the workingDir; an absolute
 * path must fall inside the workingDir or a mountPath. `..` is resolved first and symlinks are followed
 * only while they stay inside those directories, so a copy never reaches the rest of the node.
 */
import fs from 'node:fs';
import path from 'node:path';
import { SkiffError } from '../../protocol/errors.js';
import type { Container } from '../../protocol/types.js';
import { volumeEnvName } from '../volumes/mounts.js';

/** A container's roots: each place inside the pod and the host directory it is. */
export interface PodRoots {
  workingDir?: string;
  mounts: { mountPath: string; dir: string }[];
}

/** The roots of a container from its spec and its launch env (SKIFF_VOLUME_<NAME> holds each volume's directory). */
export function rootsOf(c: Container, env: Record<string, string>, workingDir: string | undefined): PodRoots {
  const wd = workingDir && path.isAbsolute(workingDir) ? path.resolve(workingDir) : undefined;
  const mounts: PodRoots['mounts'] = [];
  for (const m of c.volumeMounts ?? []) {
    const dir = env[volumeEnvName(m.name)];
    if (!dir) continue;
    const at = path.isAbsolute(m.mountPath) ? path.resolve(m.mountPath) : wd ? path.resolve(wd, m.mountPath) : undefined;
    if (at) mounts.push({ mountPath: at, dir: m.subPath ? path.join(dir, m.subPath) : dir });
  }
  mounts.sort((a, b) => b.mountPath.length - a.mountPath.length);
  return { workingDir: wd, mounts };
}

const inside = (p: string, root: string) => p === root || p.startsWith(root.endsWith(path.sep) ? root : root + path.sep);

/** The host path of `podPath`, or SKIFF_ERR_FORBIDDEN naming the rule. */
export function hostPathOf(roots: PodRoots, podPath: string): string {
  if (podPath.includes('\0')) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', 'path: must not contain NUL');
  if (!path.isAbsolute(podPath) && !roots.workingDir)
    throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `"${podPath}" is relative, and the container has no absolute workingDir to resolve it against; give the path of a volume's mountPath`);
  const abs = path.isAbsolute(podPath) ? path.resolve(podPath) : path.resolve(roots.workingDir!, podPath);
  const m = roots.mounts.find((x) => inside(abs, x.mountPath));
  const host = m ? path.join(m.dir, path.relative(m.mountPath, abs)) : roots.workingDir && inside(abs, roots.workingDir) ? abs : undefined;
  if (!host) throw outside(roots, podPath);
  if (!staysInside(roots, host)) throw outside(roots, podPath);
  return host;
}

/**
 * True when the real place of a host path — through every symlink, or of its nearest existing parent
 * for a path still to be written — is inside one of the roots.
 */
export function staysInside(roots: PodRoots, host: string): boolean {
  try {
    let probe = host;
    while (!fs.existsSync(probe) && path.dirname(probe) !== probe) probe = path.dirname(probe);
    const real = fs.realpathSync(probe);
    return [roots.workingDir, ...roots.mounts.map((x) => x.dir)].some((r) => !!r && fs.existsSync(r) && inside(real, fs.realpathSync(r)));
  } catch {
    return false;
  }
}

function outside(roots: PodRoots, p: string): SkiffError {
  const where = [roots.workingDir && `its workingDir ${roots.workingDir}`, ...roots.mounts.map((m) => `volume at ${m.mountPath}`)].filter(Boolean).join(', ');
  return new SkiffError('SKIFF_ERR_FORBIDDEN', `"${p}" is outside the pod's files: a process pod's files are ${where || 'nothing (no workingDir, no volumes)'}`);
}

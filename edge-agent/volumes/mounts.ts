/**
 * How a process container sees its volumeMounts. A plain process cannot have a directory bind-mounted at
 * `mountPath` without privileges, so Skiff maps a mount in two ways:
 *   - always: the env var SKIFF_VOLUME_<NAME> holds the volume's directory (usable as `$(SKIFF_VOLUME_<NAME>)`
 *     in env values, command and args, since it is defined before them);
 *   - when mountPath is relative, or absolute under the container's workingDir: a symlink at that place
 *     pointing into the volume (honouring subPath), so code reading `./config/app.yaml` just works.
 * An absolute mountPath elsewhere (e.g. /etc/app) is not created: writing into the host's own directories
 * on behalf of a pod is what hostPath is for. Existing files are never replaced, only our own symlinks.
 */
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { SkiffError } from '../../protocol/errors.js';
import type { Container } from '../../protocol/types.js';

/** `config-files` → `SKIFF_VOLUME_CONFIG_FILES`. */
export const volumeEnvName = (volume: string) => `SKIFF_VOLUME_${volume.toUpperCase().replace(/[^A-Z0-9_]/g, '_')}`;

/** One symlink a mount needs: `link` → `target`. */
export interface MountLink {
  link: string;
  target: string;
}

/** The env vars of a container's mounts: SKIFF_VOLUME_<NAME> → the volume's directory. */
export function mountEnv(c: Container, dirOf: (volume: string) => string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const m of c.volumeMounts ?? []) env[volumeEnvName(m.name)] = dirOf(m.name);
  return env;
}

/** The symlinks a container's mounts need (see the file comment for which mounts get one). */
export function mountLinks(c: Container, dirOf: (volume: string) => string): MountLink[] {
  const out: MountLink[] = [];
  const wd = c.workingDir && path.isAbsolute(c.workingDir) ? path.resolve(c.workingDir) : undefined;
  if (!wd) return out;
  for (const m of c.volumeMounts ?? []) {
    const link = path.resolve(wd, m.mountPath);
    if (link === wd || !link.startsWith(`${wd}${path.sep}`)) continue; // outside the working dir: env only
    if (m.subPath && (path.isAbsolute(m.subPath) || m.subPath.split('/').includes('..')))
      throw new SkiffError('SKIFF_ERR_VALIDATION', `volumeMount "${m.name}": subPath "${m.subPath}" must be relative without ".."`);
    out.push({ link, target: m.subPath ? path.join(dirOf(m.name), m.subPath) : dirOf(m.name) });
  }
  return out;
}

/** Creates (or re-points) the symlinks; refuses to replace anything that is not a symlink. */
export async function createLinks(links: MountLink[]): Promise<void> {
  for (const { link, target } of links) {
    const st = await fsp.lstat(link).catch(() => undefined);
    if (st && !st.isSymbolicLink())
      throw new SkiffError('SKIFF_ERR_ALREADY_EXISTS', `mountPath ${link} exists and is not a symlink; skiff links volumes there and will not replace it`);
    if (st && (await fsp.readlink(link)) === target) continue;
    await fsp.mkdir(path.dirname(link), { recursive: true });
    const tmp = `${link}.skiff-tmp`;
    await fsp.rm(tmp, { force: true });
    await fsp.symlink(target, tmp);
    await fsp.rename(tmp, link);
  }
}

/** Removes the symlinks that still point where we put them (the pod is gone). */
export async function removeLinks(links: MountLink[]): Promise<void> {
  for (const { link, target } of links) if ((await fsp.readlink(link).catch(() => undefined)) === target) await fsp.rm(link, { force: true });
}

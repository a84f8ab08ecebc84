/**
 * `volumeDelete {name, path}`: the master reclaims a local-path volume (reclaim policy Delete) and asks this
 * node to delete its directory. Only a directory directly in this agent's volume dir, named after the volume
 * (`<name>` or `<name>_...`, as local-path names them), is deleted — whatever the request says, nothing else
 * on the board can be reached this way. Answers `{deleted: true}`, or `{deleted: false}` when it was already gone.
 */
import fs from 'node:fs';
import path from 'node:path';
import { SkiffError } from '../../protocol/errors.js';

/** The checked target of a volumeDelete: the directory, resolved inside `volumeDir`. */
export function volumeTarget(volumeDir: string, params: Record<string, unknown>): string {
  const { name, path: p } = params;
  if (typeof name !== 'string' || !/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(name)) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', 'volumeDelete: params.name: must be a volume name');
  if (typeof p !== 'string' || !path.isAbsolute(p)) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', 'volumeDelete: params.path: must be an absolute path');
  const target = path.resolve(p);
  const base = path.basename(target);
  if (path.dirname(target) !== path.resolve(volumeDir) || (base !== name && !base.startsWith(`${name}_`)))
    throw new SkiffError('SKIFF_ERR_FORBIDDEN', `volumeDelete: ${target} is not volume ${name}'s directory in this node's volume dir ${volumeDir}`);
  return target;
}

/** Deletes a volume's directory (see above). */
export async function deleteVolume(volumeDir: string, params: Record<string, unknown>): Promise<{ deleted: boolean }> {
  const target = volumeTarget(volumeDir, params);
  const st = await fs.promises.lstat(target).catch(() => undefined);
  if (!st) return { deleted: false };
  // A symlink planted in the volume dir is removed as a link; rm never follows it out of the dir.
  await fs.promises.rm(target, { recursive: true, force: true });
  return { deleted: true };
}

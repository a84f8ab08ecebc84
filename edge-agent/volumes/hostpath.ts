/**
 * hostPath volumes: the host path itself, checked against its `type` as kubelet does (core/v1
 * HostPathType): "" no check, DirectoryOrCreate/FileOrCreate create what is missing, Directory, File,
 * Socket, CharDevice, BlockDevice must already be that.
 */
import fs from 'node:fs';
import path from 'node:path';
import { SkiffError } from '../../protocol/errors.js';
import { own } from '../../protocol/own.js';

const is: Record<string, (s: fs.Stats) => boolean> = {
  Directory: (s) => s.isDirectory(),
  File: (s) => s.isFile(),
  Socket: (s) => s.isSocket(),
  CharDevice: (s) => s.isCharacterDevice(),
  BlockDevice: (s) => s.isBlockDevice(),
};

/** Checks (or creates) a hostPath volume's path; throws a message naming the volume, path and type. */
export async function prepareHostPath(volume: string, p: string, type = ''): Promise<string> {
  const fail = (why: string) => new SkiffError('SKIFF_ERR_VALIDATION', `volume "${volume}": hostPath ${p} ${why}`);
  if (!path.isAbsolute(p)) throw fail('must be an absolute path');
  const stat = await fs.promises.stat(p).catch(() => undefined);
  if (type === '') return p;
  if (type === 'DirectoryOrCreate') {
    if (!stat) await fs.promises.mkdir(p, { recursive: true, mode: 0o755 });
    else if (!stat.isDirectory()) throw fail('exists and is not a directory (type DirectoryOrCreate)');
    return p;
  }
  if (type === 'FileOrCreate') {
    // Kubernetes creates the file, not its parent directory.
    if (!stat) await fs.promises.writeFile(p, '', { flag: 'a', mode: 0o644 }).catch((err: Error) => Promise.reject(fail(`cannot be created: ${err.message}`)));
    else if (!stat.isFile()) throw fail('exists and is not a file (type FileOrCreate)');
    return p;
  }
  const check = own(is, type);
  if (!check) throw fail(`has an unknown type "${type}"`);
  if (!stat) throw fail(`does not exist (type ${type})`);
  if (!check(stat)) throw fail(`is not a ${type}`);
  return p;
}

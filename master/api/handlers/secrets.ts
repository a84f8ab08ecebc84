/**
 * `secrets {action: 'rotate-key'}` (cluster admin): kube-apiserver's key rotation in one step — a new key is put
 * first in DATA/encryption-config.json (it seals from now on, the old ones still open), every Secret is re-sealed
 * with it and the change history compacted, then the old keys are dropped from the file. Answers the new key's
 * name (never the key) and how many Secrets were re-sealed. One rotation at a time.
 */
import { Checker, SkiffError, type ApiRequest } from '../../../protocol/index.js';
import { badRequest } from '../params.js';
import type { ApiContext } from '../types.js';

/** The rotation in progress, if any (the master is one process: a flag is enough). */
let rotating = false;

/** The secrets verb. */
export async function secrets(ctx: ApiContext, req: ApiRequest): Promise<{ key: string; secrets: number; resealed: number; dropped: string[] }> {
  const c = new Checker('request secrets');
  c.oneOf(req.action, 'action', ['rotate-key'], true);
  badRequest(c);
  const sealed = ctx.sealed;
  if (!sealed) throw new SkiffError('SKIFF_ERR_UNAVAILABLE', 'this master does not seal Secrets at rest');
  if (rotating) throw new SkiffError('SKIFF_ERR_CONFLICT', 'a key rotation is already in progress; try again when it is done');
  rotating = true;
  try {
    const key = sealed.keys.addKey();
    const { resealed, total } = await sealed.reseal();
    const dropped = sealed.keys.dropOldKeys();
    ctx.log.info('secrets encryption key rotated', { key, secrets: total, resealed, dropped: dropped.join(',') });
    return { key, secrets: total, resealed, dropped };
  } finally {
    rotating = false;
  }
}

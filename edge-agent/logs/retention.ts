/**
 * Which pods' logs stay on the node: those of the pods in the desired set, and of the pods that ran to the
 * end but still exist as objects (`keepLogs` of the desired set) — so `skiff logs` of a Completed or Failed
 * pod works until the pod is deleted (a Job's pods: until the Job's TTL or history limit deletes them),
 * also after an agent restart, as the desired set is cached on disk. A pod's logs go once its uid is in
 * neither list and it is not running or stopping here.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { DesiredMessage } from '../../protocol/messages.js';
import { remove } from '../fsutil.js';
import { uidOfLogDir } from './files.js';

/** The uids whose logs a desired set keeps. */
export function logsKeptBy(desired: DesiredMessage | undefined): Set<string> {
  return new Set([...(desired?.pods ?? []).map((p) => p.metadata.uid as string), ...(desired?.keepLogs ?? [])]);
}

/** Removes the log directories of pods not in `keep`; returns how many went. */
export async function sweepLogs(logsDir: string, keep: ReadonlySet<string>): Promise<number> {
  let n = 0;
  for (const dir of await fs.promises.readdir(logsDir).catch(() => [] as string[])) {
    if (keep.has(uidOfLogDir(dir))) continue;
    await remove(path.join(logsDir, dir));
    n++;
  }
  return n;
}

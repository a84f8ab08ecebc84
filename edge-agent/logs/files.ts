/**
 * Where a container's logs live: `DATA/logs/<namespace>_<pod>_<uid>/<container>/` (the kubelet's
 * /var/log/pods layout) holds, per attempt n (its restartCount), `n.log` — the process writes it itself,
 * so it keeps logging while the agent is down —, `n.1.log` … `n.K.log` (the parts rotated out when `n.log`
 * grew past its bound, `n.1.log` the newest; K = --container-log-max-files − 1), and `n.idx`, `n.1.idx` …,
 * the timelines that date their lines (timeline.ts).
 */
import fs from 'node:fs';
import path from 'node:path';

/** The files of one attempt. */
export interface AttemptFiles {
  log: string;
  /** The newest rotated part (`n.1.log`). */
  rotated: string;
  idx: string;
  rotatedIdx: string;
  /** The k-th rotated part (k ≥ 1, 1 the newest) and its timeline. */
  part(k: number): { log: string; idx: string };
}

/** The files of attempt `n` in a container's log directory. */
export function attemptFiles(containerDir: string, n: number): AttemptFiles {
  const part = (k: number) => ({ log: path.join(containerDir, `${n}.${k}.log`), idx: path.join(containerDir, `${n}.${k}.idx`) });
  return { log: path.join(containerDir, `${n}.log`), rotated: part(1).log, idx: path.join(containerDir, `${n}.idx`), rotatedIdx: part(1).idx, part };
}

/** The numbers of the rotated parts attempt `n` has on disk, newest (1) first. */
export function rotatedParts(containerDir: string, n: number): number[] {
  let names: string[];
  try {
    names = fs.readdirSync(containerDir);
  } catch {
    return [];
  }
  const re = new RegExp(`^${n}\\.(\\d+)\\.log$`);
  return names.flatMap((f) => {
    const m = re.exec(f);
    return m ? [Number(m[1])] : [];
  }).sort((a, b) => a - b);
}

/** Every file of attempt `n` (its log, rotated parts and timelines). */
export function filesOfAttempt(containerDir: string, n: number): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(containerDir);
  } catch {
    return [];
  }
  const re = new RegExp(`^${n}\\.(?:\\d+\\.)?(?:log|idx)$`);
  return names.filter((f) => re.test(f)).map((f) => path.join(containerDir, f));
}

/** The attempts with a log in a container's directory, in order (empty when there is none). */
export function attemptsIn(containerDir: string): number[] {
  let names: string[];
  try {
    names = fs.readdirSync(containerDir);
  } catch {
    return [];
  }
  const ns = new Set<number>();
  for (const f of names) {
    const m = /^(\d+)\.(?:\d+\.)?log$/.exec(f);
    if (m) ns.add(Number(m[1]));
  }
  return [...ns].sort((a, b) => a - b);
}

/** The uid a pod log directory's name ends with (`<namespace>_<pod>_<uid>`: names never hold "_"). */
export function uidOfLogDir(dir: string): string {
  return dir.split('_').slice(2).join('_');
}

/** The log directory of a pod that is no longer running here, by namespace, name and uid; undefined when there is none. */
export function findPodLogDir(logsDir: string, namespace: string, name: string, uid: string | undefined): string | undefined {
  if (uid !== undefined) {
    if (/[/\\]|^\.\.?$/.test(uid)) return undefined;
    const d = path.join(logsDir, `${namespace}_${name}_${uid}`);
    return fs.existsSync(d) ? d : undefined;
  }
  // No uid: the newest directory of that namespace and name.
  let best: { dir: string; mtime: number } | undefined;
  for (const d of fs.readdirSync(logsDir, { withFileTypes: true })) {
    if (!d.isDirectory() || !d.name.startsWith(`${namespace}_${name}_`)) continue;
    const mtime = fs.statSync(path.join(logsDir, d.name)).mtimeMs;
    if (!best || mtime > best.mtime) best = { dir: path.join(logsDir, d.name), mtime };
  }
  return best?.dir;
}

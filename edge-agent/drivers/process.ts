/**
 * The process driver: a container is a host process (command + args, env, workingDir) that outlives the agent.
 *
 * Each attempt runs under a tiny wrapper, `/bin/sh -c '...; "$@"; echo $? > <container>.exit; kill -9 0'`,
 * started in a session and process group of its own (so stopping it stops everything it forked, and a signal
 * to the agent never reaches it) with stdout and stderr appended straight to the log file. The wrapper is what
 * lets a later agent run adopt the attempt: that run is not its parent and cannot waitpid it, so the exit
 * status waits in the exit file, and the agent notices the end by watching /proc and the state dir.
 * `<container>.pid` names the wrapper by pid, /proc start time and boot id (a recycled pid is never touched).
 * One `sh` per container (dash: 1.7 MB RSS, ~0.1 MB of it its own), no node process. docs/lifecycle.md has the whole story.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { constants as osConstants } from 'node:os';
import type { Logger } from '../log.js';
import { bootId, killGroup, readStat } from '../procfs.js';
import { DEFAULT_GRACE_MS, isRunning, readExit, readRecord, recordFiles, writeRecord, type ProcessRecord } from './process-record.js';
import type { Adoption, ContainerHandle, ContainerRef, Driver, ExitInfo, LaunchSpec } from './types.js';

/**
 * The wrapper. TERM, INT and HUP are trapped (not ignored, so the command gets the default action): a stop's
 * SIGTERM to the group ends the command, and the shell lives on to write its status. `kill -9 0` then ends
 * whatever the command left in its group, as a container's processes end with its main process. dash
 * exports PWD into the environment: unset, unless the pod asked for it, so the pod sees exactly its env.
 */
function wrapperScript(keepPwd: boolean): string {
  return `${keepPwd ? '' : 'unset PWD; '}f=$1; shift; trap : TERM INT HUP; "$@"; echo $? > "$f"; kill -9 0`;
}

/** The executable a command names, searched like execvp (PATH from the pod's env); the error as runc words it. */
export function findExecutable(cmd: string, env: Record<string, string>, cwd: string | undefined): { path: string } | { error: string } {
  const usable = (p: string) => {
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return fs.statSync(p).isFile();
    } catch {
      return false;
    }
  };
  const base = cwd ?? process.cwd();
  if (cmd.includes('/')) {
    const p = path.resolve(base, cmd);
    return usable(p) ? { path: p } : { error: `exec: ${JSON.stringify(cmd)}: ${fs.existsSync(p) ? 'permission denied' : 'no such file or directory'}` };
  }
  for (const dir of (env.PATH ?? '/usr/local/bin:/usr/bin:/bin').split(':')) {
    const p = path.resolve(base, dir || '.', cmd);
    if (usable(p)) return { path: p };
  }
  return { error: `exec: ${JSON.stringify(cmd)}: executable file not found in $PATH` };
}

const signalNumber = (s: NodeJS.Signals | null): number | undefined => (s ? (osConstants.signals as Record<string, number>)[s] : undefined);

/** The wrapper's own end when it wrote no status (it was killed): Kubernetes' 128 + signal. */
function wrapperExit(code: number | null, signal: NodeJS.Signals | null): ExitInfo {
  const signum = signalNumber(signal);
  const exitCode = code ?? (signum !== undefined ? 128 + signum : 137);
  return { exitCode, ...(signum !== undefined ? { signal: signum } : {}), reason: exitCode === 0 ? 'Completed' : 'Error', message: signal ? `killed by ${signal}` : undefined, finishedAt: new Date() };
}

/** An adopted attempt that ended without a status: the agent's own SIGKILL, or someone else's. */
function unknownExit(killedByAgent: boolean): ExitInfo {
  const message = killedByAgent ? 'killed by SIGKILL' : 'the process group ended without an exit status (killed by SIGKILL?)';
  return { exitCode: 137, signal: 9, reason: 'Error', message, finishedAt: new Date() };
}

/** A handle over a running process group: `stop` is SIGTERM to the group, SIGKILL after the grace period. */
function groupHandle(pid: number, startedAt: Date, exited: Promise<ExitInfo>, release: () => void, onKill: () => void = () => {}): ContainerHandle {
  let done = false;
  void exited.then(() => (done = true));
  return {
    pid,
    startedAt,
    exited,
    release,
    async stop(graceMs: number) {
      if (done) return exited;
      killGroup(pid, 'SIGTERM');
      const timer = setTimeout(() => {
        onKill();
        killGroup(pid, 'SIGKILL');
      }, graceMs);
      const info = await exited;
      clearTimeout(timer);
      return info;
    },
  };
}

/** An attempt that never ran. */
function ended(startedAt: Date, info: ExitInfo): ContainerHandle {
  const exited = Promise.resolve(info);
  return { startedAt, exited, stop: () => exited, release: () => {} };
}

/** Starts one attempt under the wrapper and records it. */
async function start(spec: LaunchSpec): Promise<ContainerHandle> {
  const startedAt = new Date();
  // Synchronous on purpose: a restart should not queue behind other work in libuv's thread pool.
  fs.mkdirSync(path.dirname(spec.logFile), { recursive: true });
  fs.mkdirSync(spec.stateDir, { recursive: true });
  const files = recordFiles(spec.stateDir, spec.containerName);
  const startError = (message: string) => {
    fs.appendFileSync(spec.logFile, `skiff-agent: cannot start ${JSON.stringify(spec.argv[0])}: ${message}\n`);
    return ended(startedAt, { exitCode: 128, reason: 'StartError', message, finishedAt: new Date() });
  };
  const exe = findExecutable(spec.argv[0], spec.env, spec.workingDir);
  if ('error' in exe) return startError(exe.error);
  fs.rmSync(files.exit, { force: true }); // the previous attempt's status must not be read as this one's
  // Running as another user (runAsUser), the wrapper writes its status into a file that user owns (empty until then).
  if (spec.user) {
    fs.writeFileSync(files.exit, '', { mode: 0o600 });
    fs.chownSync(files.exit, spec.user.uid, spec.user.gid);
  }
  const out = fs.openSync(spec.logFile, 'a');
  const args = ['-c', wrapperScript('PWD' in spec.env), 'skiff-pod', files.exit, exe.path, ...spec.argv.slice(1)];
  let child;
  try {
    // With a user: libuv drops the agent's supplementary groups, then sets the group and the user.
    child = spawn('/bin/sh', args, { cwd: spec.workingDir, env: spec.env, detached: true, stdio: ['ignore', out, out], ...(spec.user ?? {}) });
  } catch (err) {
    return startError((err as Error).message);
  } finally {
    fs.closeSync(out); // the child holds its own copy
  }
  const pid = child.pid;
  if (pid === undefined) return startError((await new Promise<Error>((resolve) => child.once('error', resolve))).message);
  child.on('error', () => undefined); // a failed kill of an ended child; the exit is what counts
  child.unref(); // the agent may exit without waiting for its pods: the next run adopts them
  const stat = readStat(pid);
  if (stat) writeRecord(files.record, { pid, startTime: stat.startTime, bootId: bootId(), argv: spec.argv, restartCount: spec.restartCount, startedAt: startedAt.toISOString(), graceMs: spec.graceMs });
  const exited = new Promise<ExitInfo>((resolve) => child.once('exit', (code, signal) => resolve(readExit(files.exit, () => wrapperExit(code, signal)))));
  return groupHandle(pid, startedAt, exited, () => child.removeAllListeners('exit'));
}

/**
 * Resolves once the recorded process is gone. It is not our child: a 1 s poll of /proc, and a watch on the
 * state dir that polls fast once the wrapper writes the exit file (the group ends right after). `cancel`
 * stops watching.
 */
function watchGone(r: ProcessRecord, stateDir: string, exitName: string): { gone: Promise<void>; cancel(): void } {
  let finish = () => {};
  const gone = new Promise<void>((resolve) => (finish = resolve));
  let fast: NodeJS.Timeout | undefined;
  const check = () => {
    if (isRunning(r)) return;
    cancel();
    finish();
  };
  const slow = setInterval(check, 1000).unref();
  let watcher: fs.FSWatcher | undefined;
  try {
    watcher = fs.watch(stateDir, (_event, name) => {
      if (name !== exitName || fast) return;
      let tries = 0;
      fast = setInterval(() => (++tries > 300 ? clearInterval(fast) : check()), 10).unref();
    });
    watcher.on('error', () => undefined);
    watcher.unref();
  } catch {
    // no inotify: the slow poll alone
  }
  const cancel = () => {
    clearInterval(slow);
    clearInterval(fast);
    watcher?.close();
  };
  check();
  return { gone, cancel };
}

/** Adopts what a previous run recorded for one container. */
async function adopt(ref: ContainerRef): Promise<Adoption> {
  const files = recordFiles(ref.stateDir, ref.containerName);
  const r = readRecord(files.record);
  if (!r) return { kind: 'none' };
  const restartCount = r.restartCount ?? 0;
  const startedAt = new Date(r.startedAt ?? Date.now());
  if (!isRunning(r)) return { kind: 'exited', restartCount, startedAt, exit: readExit(files.exit, () => unknownExit(false)) };
  let killed = false;
  const watch = watchGone(r, ref.stateDir, path.basename(files.exit));
  const exited = watch.gone.then(() => readExit(files.exit, () => unknownExit(killed)));
  const handle = groupHandle(r.pid, startedAt, exited, () => watch.cancel(), () => (killed = true));
  return { kind: 'running', restartCount, handle };
}

/** Polls /proc until the recorded process is gone; false after `ms`. */
async function goneWithin(r: ProcessRecord, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (isRunning(r)) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return true;
}

/** Stops one recorded process group: SIGTERM, SIGKILL after its grace period. */
async function stopRecorded(r: ProcessRecord, log: Logger): Promise<void> {
  log.info(`stopping process ${r.pid} (${r.argv.join(' ')}): its pod is no longer wanted on this node`);
  killGroup(r.pid, 'SIGTERM');
  if (await goneWithin(r, r.graceMs ?? DEFAULT_GRACE_MS)) return;
  killGroup(r.pid, 'SIGKILL');
  if (!(await goneWithin(r, 2000))) log.error(`process ${r.pid} survived SIGKILL`);
}

/** The running attempts recorded under DATA/pods for pods not in `keep`. */
async function recordedOutside(podsDir: string, keep: ReadonlySet<string>, log: Logger): Promise<ProcessRecord[]> {
  const found: ProcessRecord[] = [];
  const boot = bootId();
  for (const uid of await fs.promises.readdir(podsDir).catch(() => [] as string[])) {
    if (keep.has(uid)) continue;
    const dir = path.join(podsDir, uid);
    const files = await fs.promises.readdir(dir).catch(() => [] as string[]);
    for (const f of files.filter((n) => n.endsWith('.pid'))) {
      const r = readRecord(path.join(dir, f));
      if (r && isRunning(r, boot)) found.push(r);
      else log.debug(`${uid}/${f}: no running process (gone, recycled pid or unreadable record); not touching it`);
    }
  }
  return found;
}

/** Stops the attempts of pods no longer wanted, all at once, each with its own grace. */
async function reap(podsDir: string, keep: ReadonlySet<string>, log: Logger): Promise<number> {
  const found = await recordedOutside(podsDir, keep, log);
  await Promise.all(found.map((r) => stopRecorded(r, log)));
  return found.length;
}

/** The process driver. */
export const processDriver: Driver = { start, adopt, reap };

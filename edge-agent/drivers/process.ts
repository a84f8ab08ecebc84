/**
 * The process driver: a container is a host process (command + args, env, workingDir) in its own process
 * group, so stopping it stops everything it forked. stdout and stderr go straight into the log file, so the
 * process keeps running (and logging) if the agent dies; a pid file records it for the next agent run.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { constants as osConstants } from 'node:os';
import { remove } from '../fsutil.js';
import type { Logger } from '../log.js';
import { isSameProcess, readStat } from '../procfs.js';
import type { ContainerHandle, Driver, ExitInfo, LaunchSpec } from './types.js';

/** DATA/pods/<uid>/<container>.pid: the pid and its /proc start time, which together name one process. */
interface PidFile {
  pid: number;
  startTime: number;
  argv: string[];
}

/** Sends a signal to a whole process group; false when the group is gone. */
function killGroup(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    return false;
  }
}

const signalNumber = (s: NodeJS.Signals | null): number | undefined => (s ? (osConstants.signals as Record<string, number>)[s] : undefined);

function exitInfo(code: number | null, signal: NodeJS.Signals | null): ExitInfo {
  const signum = signalNumber(signal);
  // Kubernetes reports a signal death as 128 + the signal number.
  const exitCode = code ?? (signum !== undefined ? 128 + signum : 1);
  return { exitCode, signal: signum, reason: exitCode === 0 ? 'Completed' : 'Error', message: signal ? `killed by ${signal}` : undefined, finishedAt: new Date() };
}

function pidFilePath(spec: LaunchSpec): string {
  return path.join(spec.stateDir, `${spec.containerName}.pid`);
}

/** Starts one attempt. */
async function start(spec: LaunchSpec): Promise<ContainerHandle> {
  const startedAt = new Date();
  // Synchronous on purpose: a restart should not queue behind other work in libuv's thread pool.
  fs.mkdirSync(path.dirname(spec.logFile), { recursive: true });
  fs.mkdirSync(spec.stateDir, { recursive: true });
  const out = fs.openSync(spec.logFile, 'a');
  let child;
  try {
    child = spawn(spec.argv[0], spec.argv.slice(1), { cwd: spec.workingDir, env: spec.env, detached: true, stdio: ['ignore', out, out] });
  } catch (err) {
    fs.closeSync(out);
    return ended(startedAt, { exitCode: 128, reason: 'StartError', message: (err as Error).message, finishedAt: new Date() });
  } finally {
    if (child) fs.closeSync(out); // the child holds its own copy
  }
  const pid = child.pid;
  if (pid === undefined) {
    const err = await new Promise<Error>((resolve) => child.once('error', resolve));
    fs.appendFileSync(spec.logFile, `skiff-agent: cannot start ${JSON.stringify(spec.argv[0])}: ${err.message}\n`);
    return ended(startedAt, { exitCode: 128, reason: 'StartError', message: err.message, finishedAt: new Date() });
  }
  child.unref(); // the agent may exit without waiting for its pods
  const pidFile = pidFilePath(spec);
  const stat = readStat(pid);
  if (stat) fs.writeFileSync(pidFile, JSON.stringify({ pid, startTime: stat.startTime, argv: spec.argv } satisfies PidFile));
  const exited = new Promise<ExitInfo>((resolve) => {
    child.once('exit', (code, signal) => {
      killGroup(pid, 'SIGKILL'); // like a container: when the main process ends, whatever it forked ends too
      fs.rmSync(pidFile, { force: true });
      resolve(exitInfo(code, signal));
    });
  });
  let done = false;
  void exited.then(() => (done = true));
  return {
    pid,
    startedAt,
    exited,
    async stop(graceMs: number) {
      if (done) return exited;
      killGroup(pid, 'SIGTERM');
      const timer = setTimeout(() => killGroup(pid, 'SIGKILL'), graceMs);
      const info = await exited;
      clearTimeout(timer);
      return info;
    },
  };
}

function ended(startedAt: Date, info: ExitInfo): ContainerHandle {
  const exited = Promise.resolve(info);
  return { startedAt, exited, stop: () => exited };
}

/** Waits until `pid` is no longer the process that started at `startTime`, polling /proc; false on timeout. */
async function waitGone(pid: number, startTime: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (isSameProcess(pid, startTime)) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
  return true;
}

/** Kills the process groups named by pid files under DATA/pods, only where the start time still matches. */
async function reapLeftovers(podsDir: string, graceMs: number, log: Logger): Promise<number> {
  let uids: string[];
  try {
    uids = await fs.promises.readdir(podsDir);
  } catch {
    return 0;
  }
  const found: PidFile[] = [];
  for (const uid of uids) {
    const dir = path.join(podsDir, uid);
    let files: string[] = [];
    try {
      files = (await fs.promises.readdir(dir)).filter((f) => f.endsWith('.pid'));
    } catch {
      continue;
    }
    for (const f of files) {
      try {
        const p = JSON.parse(await fs.promises.readFile(path.join(dir, f), 'utf8')) as PidFile;
        if (Number.isInteger(p.pid) && p.pid > 1 && Number.isFinite(p.startTime) && isSameProcess(p.pid, p.startTime)) found.push(p);
        else log.debug(`pid file ${uid}/${f}: process ${p.pid} is gone (or the pid was recycled); not touching it`);
      } catch (err) {
        log.warn(`pid file ${uid}/${f} is unreadable (${(err as Error).message}); ignored`);
      }
      await remove(path.join(dir, f));
    }
  }
  for (const p of found) {
    log.info(`stopping leftover process ${p.pid} (${p.argv.join(' ')}) from a previous run`);
    killGroup(p.pid, 'SIGTERM');
  }
  for (const p of found)
    if (!(await waitGone(p.pid, p.startTime, graceMs))) {
      killGroup(p.pid, 'SIGKILL');
      if (!(await waitGone(p.pid, p.startTime, 2000))) log.error(`leftover process ${p.pid} survived SIGKILL`);
    }
  return found.length;
}

/** The process driver. */
export const processDriver: Driver = { start, reapLeftovers };

/**
 * A driver whose attempts are host processes under the exit-recording wrapper (wrapper.ts): the process
 * driver (the pod's own command) and the wasi driver (node running the module) are this with a different
 * command. Each attempt runs in a session and process group of its own (stopping it stops everything it
 * forked; a signal to the agent never reaches it), inside its cgroup when the node enforces limits, with
 * stdout and stderr appended straight to the log file. `<container>.pid` names the wrapper by pid, /proc
 * start time and boot id (a recycled pid is never touched) and which driver started it.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from '../log.js';
import { bootId, killGroup, readStat } from '../procfs.js';
import { DEFAULT_GRACE_MS, isRunning, readExit, readRecord, recordFiles, writeRecord, type ProcessRecord } from './process-record.js';
import type { Adoption, ContainerRef, Driver, LaunchSpec } from './types.js';
import { asUser, handOver } from './run-as.js';
import { watchGone } from './watch.js';
import { classifyExit, ended, groupHandle, unknownExit, wrapperExit, wrapperScript } from './wrapper.js';

/** What a wrapped driver runs for a launch. */
export interface WrappedCommand {
  /** The host command, its first element an absolute path. */
  argv: string[];
  /** The environment (default: the launch's). */
  env?: Record<string, string>;
}

/** What makes one wrapped driver. */
export interface WrappedDriverOptions {
  /** Recorded with each attempt, so each driver reaps only its own records. */
  name: string;
  /** The host command of a launch, or why it cannot start (a StartError, as runc words it). */
  command(spec: LaunchSpec): WrappedCommand | { error: string };
  exec?: Driver['exec'];
}

/** `<container>.oom`: a wrapped command's own word that it ran out of memory (the wasi runner writes it). */
export const oomFile = (stateDir: string, container: string) => path.join(stateDir, `${container}.oom`);

/** A wrapped driver. */
export function wrappedDriver(o: WrappedDriverOptions): Driver {
  async function start(spec: LaunchSpec) {
    const startedAt = new Date();
    // Synchronous on purpose: a restart should not queue behind other work in libuv's thread pool.
    fs.mkdirSync(path.dirname(spec.logFile), { recursive: true });
    fs.mkdirSync(spec.stateDir, { recursive: true });
    const files = recordFiles(spec.stateDir, spec.containerName);
    const oom = oomFile(spec.stateDir, spec.containerName);
    const startError = (message: string) => {
      fs.appendFileSync(spec.logFile, `skiff-agent: cannot start ${JSON.stringify(spec.argv[0] ?? spec.image)}: ${message}\n`);
      return ended(startedAt, { exitCode: 128, reason: 'StartError', message, finishedAt: new Date() });
    };
    const cmd = o.command(spec);
    if ('error' in cmd) return startError(cmd.error);
    // The previous attempt's status and OOM word must not be read as this one's.
    fs.rmSync(files.exit, { force: true });
    fs.rmSync(oom, { force: true });
    let procs: string[] = [];
    try {
      if (spec.cgroup) procs = await spec.cgroup.prepare(spec.limits ?? {});
    } catch (err) {
      return startError(`cannot set up the container's cgroup: ${(err as Error).message}`);
    }
    const env = cmd.env ?? spec.env;
    const run = asUser(spec.user, cmd.argv);
    handOver(files.exit, run.spawnAs);
    const out = fs.openSync(spec.logFile, 'a');
    const args = ['-c', wrapperScript('PWD' in env), 'skiff-pod', files.exit, ...procs, '--', ...run.argv];
    let child;
    try {
      child = spawn('/bin/sh', args, { cwd: spec.workingDir, env, detached: true, stdio: ['ignore', out, out], ...(run.spawnAs ?? {}) });
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
    if (stat) writeRecord(files.record, { pid, startTime: stat.startTime, bootId: bootId(), argv: spec.argv, restartCount: spec.restartCount, startedAt: startedAt.toISOString(), graceMs: spec.graceMs, driver: o.name });
    const exited = new Promise<ReturnType<typeof wrapperExit>>((resolve) =>
      child.once('exit', (code, signal) => resolve(classifyExit(readExit(files.exit, () => wrapperExit(code, signal), startedAt), spec.cgroup, oom))),
    );
    return groupHandle(pid, startedAt, exited, () => child.removeAllListeners('exit'), spec.cgroup);
  }

  async function adopt(ref: ContainerRef): Promise<Adoption> {
    const files = recordFiles(ref.stateDir, ref.containerName);
    const r = readRecord(files.record);
    if (!r || (r.driver ?? 'process') !== o.name) return { kind: 'none' };
    const restartCount = r.restartCount ?? 0;
    const startedAt = new Date(r.startedAt ?? Date.now());
    const oom = oomFile(ref.stateDir, ref.containerName);
    if (!isRunning(r)) return { kind: 'exited', restartCount, startedAt, exit: classifyExit(readExit(files.exit, () => unknownExit(false), startedAt), ref.cgroup, oom) };
    let killed = false;
    const watch = watchGone(r, ref.stateDir, path.basename(files.exit));
    const exited = watch.gone.then(() => classifyExit(readExit(files.exit, () => unknownExit(killed), startedAt), ref.cgroup, oom));
    const handle = groupHandle(r.pid, startedAt, exited, () => watch.cancel(), ref.cgroup, () => (killed = true));
    return { kind: 'running', restartCount, handle };
  }

  async function reap(podsDir: string, keep: ReadonlySet<string>, log: Logger): Promise<number> {
    const found = (await recordedOutside(podsDir, keep, log)).filter((r) => (r.driver ?? 'process') === o.name);
    await Promise.all(found.map((r) => stopRecorded(r, log)));
    return found.length;
  }

  return { start, adopt, reap, ...(o.exec ? { exec: o.exec } : {}) };
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

/**
 * What the process driver keeps in a pod's state dir, per container, so a later agent run can adopt or reap
 * the attempt: `<container>.pid` (which process, which attempt) and `<container>.exit` (its exit status,
 * written by the wrapper shell when the command ends — the agent may not be there to see it).
 */
import fs from 'node:fs';
import path from 'node:path';
import { bootId, isSameProcess } from '../procfs.js';
import type { ExitInfo } from './types.js';

/** DATA/pods/<uid>/<container>.pid */
export interface ProcessRecord {
  /** The wrapper's pid, which is also the attempt's process group. */
  pid: number;
  /** /proc/<pid>/stat field 22: with the pid and the boot, it names one process (pids are recycled). */
  startTime: number;
  /** /proc/sys/kernel/random/boot_id when it started; '' when unknown (records of older agents). */
  bootId: string;
  argv: string[];
  restartCount?: number;
  /** ISO time the attempt started. */
  startedAt?: string;
  /** How long a reap waits between SIGTERM and SIGKILL. */
  graceMs?: number;
  /** The driver that started it (process, wasi); absent in records of older agents: process. */
  driver?: string;
}

/** Kubernetes' default terminationGracePeriodSeconds, for records that carry none. */
export const DEFAULT_GRACE_MS = 30_000;

/** The record and exit file of one container. */
export function recordFiles(stateDir: string, container: string): { record: string; exit: string } {
  return { record: path.join(stateDir, `${container}.pid`), exit: path.join(stateDir, `${container}.exit`) };
}

/** Writes the record (tmp + rename: an agent killed mid-write leaves the old record or the new, never half). */
export function writeRecord(file: string, r: ProcessRecord): void {
  const tmp = `${file}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(r), { mode: 0o600 }); // argv may hold values from Secrets ($(VAR) expansion)
  fs.renameSync(tmp, file);
}

/** Reads a record; undefined when missing or not a record (a corrupt file is data, never trusted). */
export function readRecord(file: string): ProcessRecord | undefined {
  let r: Partial<ProcessRecord>;
  try {
    r = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<ProcessRecord>;
  } catch {
    return undefined;
  }
  if (!r || typeof r !== 'object' || !Number.isInteger(r.pid) || (r.pid as number) <= 1 || !Number.isFinite(r.startTime)) return undefined;
  const count = Number.isInteger(r.restartCount) && (r.restartCount as number) >= 0 ? r.restartCount : undefined;
  const grace = Number.isFinite(r.graceMs) && (r.graceMs as number) >= 0 ? r.graceMs : undefined;
  return {
    pid: r.pid as number,
    startTime: r.startTime as number,
    bootId: typeof r.bootId === 'string' ? r.bootId : '',
    argv: Array.isArray(r.argv) ? r.argv.map(String) : [],
    ...(count !== undefined ? { restartCount: count } : {}),
    ...(typeof r.startedAt === 'string' ? { startedAt: r.startedAt } : {}),
    ...(grace !== undefined ? { graceMs: grace } : {}),
    ...(typeof r.driver === 'string' ? { driver: r.driver } : {}),
  };
}

/** True while the recorded process runs: same boot, same pid, same start time, not a zombie. */
export function isRunning(r: ProcessRecord, boot = bootId()): boolean {
  return (r.bootId === '' || r.bootId === boot) && isSameProcess(r.pid, r.startTime);
}

/**
 * The exit status the wrapper wrote, or `fallback` when there is none (the wrapper itself was killed, by
 * the agent's SIGKILL after the grace period or by a power cut). Its finish time is the file's mtime, but never before
 * `startedAt`: file times come from the kernel's coarse clock, up to a tick behind Date.now(), so a process that ended
 * within milliseconds of its start could otherwise read as finished before it started.
 */
export function readExit(file: string, fallback: () => ExitInfo, startedAt?: Date): ExitInfo {
  let text: string;
  let finishedAt: Date;
  try {
    text = fs.readFileSync(file, 'utf8').trim();
    finishedAt = fs.statSync(file).mtime;
    if (startedAt && finishedAt < startedAt) finishedAt = new Date(startedAt);
  } catch {
    return fallback();
  }
  const code = Number(text);
  if (!/^\d+$/.test(text) || code > 255) return fallback();
  // The shell reports a signal death as 128 + the signal number, which is what Kubernetes reports too.
  return { exitCode: code, reason: code === 0 ? 'Completed' : 'Error', finishedAt };
}

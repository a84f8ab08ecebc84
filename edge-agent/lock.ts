/**
 * DATA/agent.pid: which process runs the agent on a data dir. One agent per data dir — two would adopt the
 * same pods and run every restart twice — and `skiff-agent stop` finds the agent here. The pid is named with
 * its /proc start time and boot id, so a recycled pid is never mistaken for the agent.
 */
import fs from 'node:fs';
import path from 'node:path';
import { bootId, isSameProcess, readStat } from './procfs.js';

/** The contents of DATA/agent.pid. */
export interface AgentPid {
  pid: number;
  startTime: number;
  bootId: string;
}

function lockFile(dataDir: string): string {
  return path.join(dataDir, 'agent.pid');
}

/** The agent running on `dataDir`, if one is (a stale file of a dead or killed agent is not one). */
export function runningAgent(dataDir: string): AgentPid | undefined {
  let a: Partial<AgentPid>;
  try {
    a = JSON.parse(fs.readFileSync(lockFile(dataDir), 'utf8')) as Partial<AgentPid>;
  } catch {
    return undefined;
  }
  if (!Number.isInteger(a.pid) || !Number.isFinite(a.startTime) || a.bootId !== bootId()) return undefined;
  return isSameProcess(a.pid as number, a.startTime as number) ? (a as AgentPid) : undefined;
}

/** Claims `dataDir` for this process; throws naming the other agent when one runs there. */
export function claimDataDir(dataDir: string): void {
  const other = runningAgent(dataDir);
  if (other)
    throw new Error(
      other.pid === process.pid
        ? `another agent in this process already runs with data dir ${dataDir}`
        : `another skiff-agent (pid ${other.pid}) runs with data dir ${dataDir}; stop it first (skiff-agent stop --data-dir ${dataDir})`,
    );
  const stat = readStat(process.pid);
  const file = lockFile(dataDir);
  fs.writeFileSync(`${file}.tmp`, JSON.stringify({ pid: process.pid, startTime: stat?.startTime ?? 0, bootId: bootId() } satisfies AgentPid));
  fs.renameSync(`${file}.tmp`, file);
}

/** Gives `dataDir` up (only if this process holds it). */
export function releaseDataDir(dataDir: string): void {
  const a = runningAgent(dataDir);
  if (a?.pid === process.pid) fs.rmSync(lockFile(dataDir), { force: true });
}

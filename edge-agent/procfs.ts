/**
 * Linux processes: /proc (one process's stat line, the process table, the boot id, the host's cpu and memory
 * counters) and signals to whole process groups.
 */
import fs from 'node:fs';

/** The fields of /proc/<pid>/stat the agent uses (proc(5)). */
export interface ProcStat {
  pid: number;
  /** R, S, D, Z (zombie), T, ... */
  state: string;
  ppid: number;
  pgrp: number;
  /** user + system cpu time in clock ticks. */
  cpuTicks: number;
  /** Start time after boot in clock ticks: with the pid, it names one process for ever (pids are recycled). */
  startTime: number;
  /** Resident set in pages. */
  rssPages: number;
}

/** USER_HZ: Linux reports clock ticks at 100 Hz on every architecture the agent targets. */
export const CLOCK_TICKS_PER_S = 100;
/** Page size: 4 KiB on x86 and on Raspberry Pi OS kernels. */
export const PAGE_BYTES = 4096;

/** Parses a /proc/<pid>/stat line; the comm field may hold spaces and parentheses, so split after the last `)`. */
export function parseStat(line: string): ProcStat | undefined {
  const close = line.lastIndexOf(')');
  if (close < 0) return undefined;
  const pid = Number(line.slice(0, line.indexOf('(')).trim());
  const f = line.slice(close + 2).split(' ');
  // f[0] is field 3 (state); field n is f[n - 3].
  if (f.length < 22) return undefined;
  return { pid, state: f[0], ppid: Number(f[1]), pgrp: Number(f[2]), cpuTicks: Number(f[11]) + Number(f[12]), startTime: Number(f[19]), rssPages: Number(f[21]) };
}

/** One process's stat, or undefined when it is gone (or there is no /proc). */
export function readStat(pid: number): ProcStat | undefined {
  try {
    return parseStat(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return undefined;
  }
}

/** Every process's stat (processes that vanish while reading are skipped). */
export function readAllStats(): ProcStat[] {
  let names: string[];
  try {
    names = fs.readdirSync('/proc');
  } catch {
    return [];
  }
  const out: ProcStat[] = [];
  for (const n of names) {
    if (!/^\d+$/.test(n)) continue;
    const s = readStat(Number(n));
    if (s) out.push(s);
  }
  return out;
}

/**
 * The processes of one process group by pid, with their parent and command name (the stat line's comm): empty when
 * the group is gone or there is no /proc. A comm that changed under the same pid is an exec since the last look.
 */
export function groupMembers(pgid: number): Map<number, { ppid: number; comm: string }> {
  const out = new Map<number, { ppid: number; comm: string }>();
  let names: string[];
  try {
    names = fs.readdirSync('/proc');
  } catch {
    return out;
  }
  for (const n of names) {
    if (!/^\d+$/.test(n)) continue;
    let line: string;
    try {
      line = fs.readFileSync(`/proc/${n}/stat`, 'utf8');
    } catch {
      continue; // ended while listed
    }
    const s = parseStat(line);
    if (s?.pgrp === pgid) out.set(s.pid, { ppid: s.ppid, comm: line.slice(line.indexOf('(') + 1, line.lastIndexOf(')')) });
  }
  return out;
}

/** This boot's id (/proc/sys/kernel/random/boot_id): a start time names a process only within one boot. */
export function bootId(): string {
  try {
    return fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return '';
  }
}

/** Sends a signal to a whole process group; false when the group is gone. */
export function killGroup(pgid: number | undefined, signal: NodeJS.Signals): boolean {
  if (pgid === undefined || pgid <= 1) return false;
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}

/** True when `pid` is alive and is still the process that started at `startTime` (not a zombie). */
export function isSameProcess(pid: number, startTime: number): boolean {
  const s = readStat(pid);
  return s !== undefined && s.startTime === startTime && s.state !== 'Z';
}

/** Host cpu counters from the first line of /proc/stat: busy and total ticks. */
export function readHostCpu(): { busy: number; total: number } | undefined {
  try {
    const first = fs.readFileSync('/proc/stat', 'utf8').split('\n', 1)[0];
    const v = first.trim().split(/\s+/).slice(1).map(Number);
    const total = v.reduce((a, b) => a + b, 0);
    const idle = (v[3] ?? 0) + (v[4] ?? 0); // idle + iowait
    return { busy: total - idle, total };
  } catch {
    return undefined;
  }
}

/** Host memory in use (MemTotal − MemAvailable) in bytes, from /proc/meminfo. */
export function readHostMemoryUsed(): number | undefined {
  try {
    const t = fs.readFileSync('/proc/meminfo', 'utf8');
    const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(t)?.[1] ?? NaN);
    const used = (kb('MemTotal') - kb('MemAvailable')) * 1024;
    return Number.isFinite(used) ? used : undefined;
  } catch {
    return undefined;
  }
}

/** The pids of the trees rooted at `roots` (and their process groups). */
export function treeOf(stats: ProcStat[], roots: number[]): ProcStat[] {
  const children = new Map<number, ProcStat[]>();
  for (const s of stats) children.set(s.ppid, [...(children.get(s.ppid) ?? []), s]);
  const byPid = new Map(stats.map((s) => [s.pid, s]));
  const out = new Map<number, ProcStat>();
  const stack = roots.map((r) => byPid.get(r)).filter((s): s is ProcStat => s !== undefined);
  for (const s of stats) if (roots.includes(s.pgrp)) stack.push(s);
  while (stack.length) {
    const s = stack.pop() as ProcStat;
    if (out.has(s.pid)) continue;
    out.set(s.pid, s);
    stack.push(...(children.get(s.pid) ?? []));
  }
  return [...out.values()];
}

/** The cpu time (ns) and resident memory (bytes) of the process tree rooted at `pid` and of its process group. */
export function treeUsage(pid: number): { cpuNanos: number; memoryBytes: number } | undefined {
  const tree = treeOf(readAllStats(), [pid]);
  if (!tree.length) return undefined;
  const ticks = tree.reduce((a, s) => a + s.cpuTicks, 0);
  return { cpuNanos: (ticks * 1e9) / CLOCK_TICKS_PER_S, memoryBytes: tree.reduce((a, s) => a + s.rssPages * PAGE_BYTES, 0) };
}

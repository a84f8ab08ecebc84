/**
 * What the harness reads about the master process from /proc (Linux): CPU time (utime + stime of
 * /proc/PID/stat, in clock ticks; its main thread's alone from /proc/PID/task/PID/stat), resident memory (VmRSS of /proc/PID/status) and bytes it caused to be written
 * to storage (write_bytes of /proc/PID/io: what reached the block layer, fsyncs and WAL included); and of the machine,
 * the CPU time its hypervisor took from it (steal, the first line of /proc/stat): on a shared virtual machine the same
 * build's runs differ by 40 % (docs/scale.md), and steal says how much of a slow run was the box's; and how busy all its
 * CPUs were, and the harness's own process (the simulated agents share the box with the master).
 */
import { readFileSync } from 'node:fs';

/** Clock ticks per second (USER_HZ): 100 on every Linux the project runs on. */
const ticksPerSecond = 100;

/** One reading of a process. */
export interface ProcSample {
  /** ms since epoch when read. */
  at: number;
  /** CPU seconds used so far (user + system), all threads. */
  cpuSeconds: number;
  /** The same, the main thread alone (the event loop; the rest is worker threads: SQLite, WAL checkpoints, GC helpers). */
  mainCpuSeconds: number;
  /**
   * Seconds the main thread has waited, runnable, for a CPU (the second field of its /proc schedstat): its time on a
   * run queue, when the box's other threads held both CPUs; NaN where the kernel has no schedstat.
   */
  mainRunWaitSeconds?: number;
  rssBytes: number;
  /** Bytes written to storage so far; -1 when /proc/PID/io cannot be read. */
  writeBytes: number;
  /** CPU seconds the machine's hypervisor took from all its CPUs so far (steal); NaN when /proc/stat cannot be read. */
  stealSeconds?: number;
  /** CPU seconds all the machine's CPUs ran anything so far (user, nice, system, irq, softirq: every process); NaN when /proc/stat cannot be read. */
  busySeconds?: number;
  /** CPU seconds this (the harness's) process used so far, all its threads: the simulated agents, the probes. */
  harnessCpuSeconds?: number;
}

/** Reads the process now; undefined once it is gone. */
export function sampleProc(pid: number): ProcSample | undefined {
  try {
    const cpuSeconds = statCpu(readFileSync(`/proc/${pid}/stat`, 'utf8'));
    let mainCpuSeconds = NaN;
    let mainRunWaitSeconds = NaN;
    try {
      mainCpuSeconds = statCpu(readFileSync(`/proc/${pid}/task/${pid}/stat`, 'utf8'));
      mainRunWaitSeconds = runQueueSeconds(readFileSync(`/proc/${pid}/task/${pid}/schedstat`, 'utf8'));
    } catch {
      // no per-thread files (not Linux proper), or no schedstat (a kernel built without it)
    }
    const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    let writeBytes = -1;
    try {
      const io = /write_bytes: (\d+)/.exec(readFileSync(`/proc/${pid}/io`, 'utf8'));
      if (io) writeBytes = Number(io[1]);
    } catch {
      // not readable (another user's process without privileges)
    }
    const stat = machineStat();
    const harness = process.cpuUsage();
    return {
      at: Date.now(),
      cpuSeconds,
      mainCpuSeconds,
      mainRunWaitSeconds,
      rssBytes: rss ? Number(rss[1]) * 1024 : 0,
      writeBytes,
      stealSeconds: machineSteal(stat),
      busySeconds: machineBusy(stat),
      harnessCpuSeconds: (harness.user + harness.system) / 1e6,
    };
  } catch {
    return undefined;
  }
}

/** The run-queue wait of a schedstat line (ns on the CPU, ns waiting on a run queue, timeslices), seconds; NaN if malformed. */
export function runQueueSeconds(schedstat: string): number {
  const f = schedstat.trim().split(/\s+/);
  return f.length >= 2 && /^\d+$/.test(f[1]!) ? Number(f[1]) / 1e9 : NaN;
}

/** /proc/stat's text ('' when it cannot be read). */
function machineStat(): string {
  try {
    return readFileSync('/proc/stat', 'utf8');
  } catch {
    return '';
  }
}

/** The fields of /proc/stat's `cpu` line (all CPUs: user nice system idle iowait irq softirq steal …) in ticks; [] if not there. */
function cpuLine(stat: string): number[] {
  const f = stat.split('\n', 1)[0]!.trim().split(/\s+/);
  return f[0] === 'cpu' ? f.slice(1).map(Number) : [];
}

/** Steal of /proc/stat's `cpu` line, seconds; NaN if not there. */
export function machineSteal(stat: string = machineStat()): number {
  const f = cpuLine(stat);
  return f.length > 7 ? f[7]! / ticksPerSecond : NaN;
}

/** What all CPUs ran (user + nice + system + irq + softirq of /proc/stat's `cpu` line), seconds; NaN if not there. */
export function machineBusy(stat: string = machineStat()): number {
  const f = cpuLine(stat);
  return f.length > 6 ? (f[0]! + f[1]! + f[2]! + f[5]! + f[6]!) / ticksPerSecond : NaN;
}

/** Share of one CPU the hypervisor took from the machine between two readings (NaN when either has no steal). */
export function stealShare(a: ProcSample, b: ProcSample): number {
  return shareOf(a, b, 'stealSeconds');
}

/**
 * Share of one CPU between two readings of the machine's busy time (every process: `busy`) or the harness's own (the
 * simulated agents and the probes, which share the box with the master: `harness`); NaN when either reading has none.
 */
export function boxShare(a: ProcSample, b: ProcSample, which: 'busy' | 'harness'): number {
  return shareOf(a, b, which === 'busy' ? 'busySeconds' : 'harnessCpuSeconds');
}

/** Share of the wall time between two readings that the master's main thread waited, runnable, for a CPU (NaN without schedstat). */
export function runWaitShare(a: ProcSample, b: ProcSample): number {
  return shareOf(a, b, 'mainRunWaitSeconds');
}

function shareOf(a: ProcSample, b: ProcSample, field: 'stealSeconds' | 'busySeconds' | 'harnessCpuSeconds' | 'mainRunWaitSeconds'): number {
  const wall = (b.at - a.at) / 1000;
  return wall > 0 ? ((b[field] ?? NaN) - (a[field] ?? NaN)) / wall : NaN;
}

/** utime + stime of a stat line, seconds. Fields after the command name (which may hold spaces and parentheses): state is field 3, utime 14, stime 15. */
function statCpu(stat: string): number {
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / ticksPerSecond;
}

/** Samples a process every `everyMs` while running: its peak RSS and the CPU share between two samples. */
export class ProcWatcher {
  private readonly timer: NodeJS.Timeout;
  peakRss = 0;
  last?: ProcSample;

  constructor(
    readonly pid: number,
    everyMs = 500,
  ) {
    this.last = sampleProc(pid);
    this.timer = setInterval(() => {
      const s = sampleProc(pid);
      if (!s) return;
      this.peakRss = Math.max(this.peakRss, s.rssBytes);
      this.last = s;
    }, everyMs);
    this.timer.unref();
  }

  /** A reading now (also counted in the peak). */
  now(): ProcSample | undefined {
    const s = sampleProc(this.pid);
    if (s) this.peakRss = Math.max(this.peakRss, s.rssBytes);
    return s;
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

/** The share of one core used between two samples (1 = a whole core): all threads, or the main thread's alone. */
export function cpuShare(a: ProcSample, b: ProcSample, which: 'all' | 'main' = 'all'): number {
  const wall = (b.at - a.at) / 1000;
  const cpu = which === 'main' ? b.mainCpuSeconds - a.mainCpuSeconds : b.cpuSeconds - a.cpuSeconds;
  return wall > 0 ? cpu / wall : 0;
}

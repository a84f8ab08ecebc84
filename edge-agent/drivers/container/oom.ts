/**
 * Seeing an OOM kill the engine does not report. Podman with runc on a cgroup-v1 host says `OOMKilled=false`
 * for a container the kernel killed at its memory limit (MACHINE-NOTES.md), and the container's cgroup is
 * removed about 200 ms after its death, before the engine's `wait` even answers. So while a container with a
 * memory limit runs, the agent reads the OOM-kill counter of its memory cgroup:
 *   cgroup v1:  /sys/fs/cgroup/memory/<path>/memory.oom_control   `oom_kill N`
 *   cgroup v2:  <cgroup2 mount>/<path>/memory.events               `oom_kill N`
 * every 100 ms (a read of one small file; v2 also wakes on inotify, since memory.events notifies), and the
 * attempt ends `OOMKilled` when the counter rose and the process died of a signal. The path comes from
 * /proc/<pid>/cgroup of the container's main process. A poll is a race the agent can lose on a busy board (the
 * cgroup may be gone before the next read), so an attempt that died of SIGKILL with no kill seen is also looked
 * up in the kernel's log (/dev/kmsg, readable by root): every memcg OOM kill is logged there as
 * `oom-kill:constraint=CONSTRAINT_MEMCG,...,oom_memcg=/.../libpod-<container id>,...`.
 */
import fs from 'node:fs';
import path from 'node:path';

/** How often the counter is read while the container runs; 100 ms (the cgroup outlives the process by ~200 ms). */
export const OOM_POLL_MS = 100;

/** The file holding a container's OOM-kill counter, or undefined when its memory cgroup cannot be found. */
export function oomCounterFile(pid: number, procRoot = '/proc', cgroupRoot = '/sys/fs/cgroup'): string | undefined {
  let lines: string[];
  try {
    lines = fs.readFileSync(`${procRoot}/${pid}/cgroup`, 'utf8').split('\n');
  } catch {
    return undefined;
  }
  for (const l of lines) {
    const [, controllers, p] = l.split(':');
    if (p !== undefined && controllers?.split(',').includes('memory')) return path.join(cgroupRoot, 'memory', p, 'memory.oom_control');
  }
  const unified = lines.find((l) => l.startsWith('0::'));
  if (!unified) return undefined;
  const mount = cgroup2Mount(procRoot) ?? cgroupRoot;
  const file = path.join(mount, unified.slice(3), 'memory.events');
  return fs.existsSync(file) ? file : undefined;
}

/** Where the cgroup2 hierarchy is mounted (/sys/fs/cgroup on v2 hosts, /sys/fs/cgroup/unified on hybrid ones). */
function cgroup2Mount(procRoot: string): string | undefined {
  try {
    for (const l of fs.readFileSync(`${procRoot}/self/mountinfo`, 'utf8').split('\n')) {
      const [pre, post] = l.split(' - ');
      if (post?.startsWith('cgroup2 ')) return pre.split(' ')[4];
    }
  } catch {
    // no /proc: no detection
  }
  return undefined;
}

/** The `oom_kill N` value of a memory.oom_control / memory.events file; undefined when unreadable. */
export function readOomKills(file: string): number | undefined {
  try {
    const m = /^oom_kill (\d+)$/m.exec(fs.readFileSync(file, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** Watches one container's OOM-kill counter until stopped. */
export class OomWatch {
  private readonly file?: string;
  private readonly base: number;
  private latest: number;
  private timer?: NodeJS.Timeout;
  private watcher?: fs.FSWatcher;

  constructor(pid: number) {
    this.file = oomCounterFile(pid);
    this.base = (this.file && readOomKills(this.file)) || 0;
    this.latest = this.base;
    if (!this.file) return;
    this.timer = setInterval(() => this.read(), OOM_POLL_MS).unref();
    if (this.file.endsWith('memory.events'))
      try {
        this.watcher = fs.watch(this.file, () => this.read());
        this.watcher.on('error', () => undefined);
        this.watcher.unref();
      } catch {
        // the poll alone
      }
  }

  /** True when the watch has a counter to read (a memory cgroup was found). */
  get watching(): boolean {
    return this.file !== undefined;
  }

  /** True once the kernel OOM-killed a process of the container since the watch began. */
  get killed(): boolean {
    this.read();
    return this.latest > this.base;
  }

  /** Stops reading; `killed` keeps the last value seen. */
  stop(): void {
    clearInterval(this.timer);
    this.watcher?.close();
  }

  private read(): void {
    const n = this.file ? readOomKills(this.file) : undefined;
    if (n !== undefined && n > this.latest) this.latest = n;
  }
}

/** How many kernel log records one look reads at most (the ring buffer is ~1 MiB, records ~100–300 bytes). */
const MAX_KMSG_RECORDS = 50_000;

/**
 * True when the kernel's log holds a memcg OOM kill in the cgroup of container `id` (its full id appears in the
 * cgroup's name under every engine and cgroup manager: `libpod-<id>`, `docker-<id>.scope`). False when it holds
 * none, or the log cannot be read (not root, no /dev/kmsg).
 */
export function oomKillLogged(id: string, kmsg = '/dev/kmsg'): boolean {
  if (!/^[0-9a-f]{12,64}$/.test(id)) return false;
  let fd: number;
  try {
    fd = fs.openSync(kmsg, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  } catch {
    return false;
  }
  const buf = Buffer.alloc(8192);
  try {
    for (let i = 0; i < MAX_KMSG_RECORDS; i++) {
      let n: number;
      try {
        n = fs.readSync(fd, buf, 0, buf.length, null);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EPIPE') continue; // a record overwritten while reading: the next one
        return false; // EAGAIN: the end of the log
      }
      if (n <= 0) return false;
      // A record: `prio,seq,usec,flags;message`, then ` KEY=value` continuation lines.
      for (const line of buf.toString('latin1', 0, n).split('\n')) {
        const msg = line.slice(line.indexOf(';') + 1);
        if (msg.startsWith('oom-kill:') && msg.includes('CONSTRAINT_MEMCG') && msg.includes(id)) return true;
      }
    }
    return false;
  } finally {
    fs.closeSync(fd);
  }
}

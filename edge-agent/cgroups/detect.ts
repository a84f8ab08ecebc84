/**
 * Which cgroups this board has, decided once at agent start: the unified v2 tree when it offers the memory
 * controller (Raspberry Pi OS Bookworm, current Debian/Ubuntu), else the v1 hierarchies when memory is
 * mounted there (older systems, and hybrid ones like the dev box: v1 controllers plus an empty v2 tree).
 * Without a memory controller, or without the right to create cgroups, pods run unlimited and the node
 * says why and how to fix it (facts.ts turns the answer into the ResourceLimits condition).
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { openDown, type Flavor } from './flavor.js';
import { cgroupTree, type TreeOptions } from './tree.js';
import type { CgroupSupport } from './types.js';
import { v1Flavor } from './v1.js';
import { v2Flavor } from './v2.js';

/** The cgroup mounts of this process's mount namespace. */
export interface CgroupMounts {
  /** v1: controller → the mount point of its hierarchy. */
  v1: Map<string, string>;
  /** The cgroup2 mount point, if any. */
  unified?: string;
}

/** The agent's own subtree, one per data dir (`skiff/agent-<8 hex>`): two agents on one host never touch each other's pods. */
export function agentCgroupName(dataDir: string): string {
  return `skiff/agent-${createHash('sha256').update(dataDir).digest('hex').slice(0, 8)}`;
}

/** mountinfo escapes space, tab, newline and backslash as \ooo. */
const unescape = (s: string) => s.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));

/** The v1 controllers Skiff reads or writes. */
const v1Controllers = ['memory', 'cpu', 'cpuacct', 'pids'];

/** Parses /proc/self/mountinfo (proc(5)): `ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS [TAGS] - FSTYPE SOURCE SUPEROPTS`. */
export function parseMountinfo(text: string): CgroupMounts {
  const out: CgroupMounts = { v1: new Map() };
  for (const line of text.split('\n')) {
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const mountPoint = unescape(line.slice(0, sep).split(' ')[4] ?? '');
    const [fstype, , superOpts = ''] = line.slice(sep + 3).split(' ');
    if (fstype === 'cgroup2') out.unified ??= mountPoint;
    else if (fstype === 'cgroup') for (const c of superOpts.split(',')) if (v1Controllers.includes(c) && !out.v1.has(c)) out.v1.set(c, mountPoint);
  }
  return out;
}

/** The controllers /proc/cgroups lists as disabled (`enabled` 0: cgroup_disable=memory on the kernel command line). */
export function disabledControllers(procCgroups: string): Set<string> {
  const out = new Set<string>();
  for (const line of procCgroups.split('\n')) {
    if (line.startsWith('#')) continue;
    const [name, , , enabled] = line.trim().split(/\s+/);
    if (name && enabled === '0') out.add(name);
  }
  return out;
}

/** The fix printed when the kernel runs without the memory controller. */
export const memoryCgroupFix =
  'add "cgroup_enable=memory cgroup_memory=1" to the kernel command line (/boot/firmware/cmdline.txt on Raspberry Pi OS Bookworm, /boot/cmdline.txt before it) and reboot';

function read(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/** Where detection looks; tests point it at a fake tree. */
export interface DetectOptions extends TreeOptions {
  mountinfo?: string;
  procCgroups?: string;
  /**
   * The node's allocatable cpu in millicores: the pods' subtree gets that share of the cpu (kubelet weighs
   * /kubepods the same way). Without it the whole subtree would compete as one process against every
   * process of the host's own, however many pods it holds.
   */
  podsCpuMilli?: number;
}

/** Picks the flavor, or says why there is none. */
function pickFlavor(mounts: CgroupMounts, disabled: Set<string>): Flavor | Exclude<CgroupSupport, { ok: true }> {
  const v2controllers = mounts.unified ? read(path.join(mounts.unified, 'cgroup.controllers')).trim().split(/\s+/) : [];
  if (mounts.unified && v2controllers.includes('memory')) return v2Flavor(mounts.unified, v2controllers);
  if (mounts.v1.has('memory')) return v1Flavor(mounts.v1);
  if (disabled.has('memory') || mounts.unified || mounts.v1.size)
    return { ok: false, reason: 'MemoryCgroupDisabled', message: `the kernel offers no memory cgroup controller, so memory limits cannot be enforced and pods run unlimited: ${memoryCgroupFix}` };
  return { ok: false, reason: 'NoCgroups', message: 'no cgroup filesystem is mounted (/sys/fs/cgroup): pods run without resource limits' };
}

/** Detects the cgroup support of this board and makes the `skiff` tree (checking that it may). */
export function detectCgroups(opts: DetectOptions = {}): CgroupSupport {
  const mounts = parseMountinfo(opts.mountinfo ?? read('/proc/self/mountinfo'));
  const picked = pickFlavor(mounts, disabledControllers(opts.procCgroups ?? read('/proc/cgroups')));
  if ('ok' in picked) return picked;
  const name = opts.name ?? 'skiff';
  const dirs = picked.dirs(name);
  try {
    for (const d of dirs) fs.mkdirSync(d, { recursive: true });
    openDown(picked, name);
    if (opts.podsCpuMilli) for (let rel = name; rel && rel !== '.'; rel = path.dirname(rel)) picked.applyShares(rel, opts.podsCpuMilli);
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    return { ok: false, reason: 'CgroupNotWritable', message: `skiff-agent cannot create cgroups (${dirs.join(', ')}: ${why}), so pods run without resource limits: run skiff-agent as root` };
  }
  const cgroups = cgroupTree(picked, opts);
  return { ok: true, cgroups, message: `${picked.controllers.join(', ')} limits enforced through cgroup ${picked.version} (${dirs.join(', ')})` };
}

/**
 * Cgroups: detection from mountinfo and /proc/cgroups (tables), the v1 and v2 file layouts on fake trees
 * (what is written where), and, where this machine lets the agent write cgroups (root on the dev box's v1
 * hierarchies), the kernel enforcing them: a cpu quota, a pids limit, leftovers killed with the container.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { detectCgroups, disabledControllers, memoryCgroupFix, parseMountinfo } from '../../edge-agent/cgroups/detect.js';
import { milliToQuota, milliToShares, sharesToWeight } from '../../edge-agent/cgroups/flavor.js';
import { processDriver } from '../../edge-agent/drivers/process.js';
import type { LaunchSpec } from '../../edge-agent/drivers/types.js';
import { isSameProcess, readStat } from '../../edge-agent/procfs.js';
import { eventually } from '../helpers/wait.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'skiff-cgroups-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const line = (id: number, mountPoint: string, fstype: string, superOpts: string) => `${id} 23 0:${id} / ${mountPoint} rw,relatime - ${fstype} ${fstype} ${superOpts}`;
const HYBRID = [
  line(31, '/sys/fs/cgroup', 'tmpfs', 'rw,mode=755'),
  line(32, '/sys/fs/cgroup/cpu', 'cgroup', 'rw,cpu'),
  line(33, '/sys/fs/cgroup/cpuacct', 'cgroup', 'rw,cpuacct'),
  line(35, '/sys/fs/cgroup/memory', 'cgroup', 'rw,memory'),
  line(39, '/sys/fs/cgroup/pids', 'cgroup', 'rw,pids'),
  line(40, '/sys/fs/cgroup/systemd', 'cgroup', 'rw,name=systemd'),
  line(41, '/sys/fs/cgroup/unified', 'cgroup2', 'rw'),
].join('\n');
const PI_V1 = [line(30, '/sys/fs/cgroup/cpu,cpuacct', 'cgroup', 'rw,cpu,cpuacct'), line(31, '/sys/fs/cgroup/memory', 'cgroup', 'rw,memory'), line(32, '/sys/fs/cgroup/pids', 'cgroup', 'rw,pids')].join('\n');
const PROC_CGROUPS_NO_MEMORY = '#subsys_name\thierarchy\tnum_cgroups\tenabled\ncpuset\t0\t1\t1\ncpu\t0\t1\t1\nmemory\t0\t1\t0\npids\t0\t1\t1\n';

describe('cgroup detection', () => {
  it('reads the hierarchies out of mountinfo: hybrid (the dev box), joined cpu,cpuacct (older Raspberry Pi OS), pure v2, escapes', () => {
    expect(parseMountinfo(HYBRID)).toEqual({ v1: new Map([['cpu', '/sys/fs/cgroup/cpu'], ['cpuacct', '/sys/fs/cgroup/cpuacct'], ['memory', '/sys/fs/cgroup/memory'], ['pids', '/sys/fs/cgroup/pids']]), unified: '/sys/fs/cgroup/unified' });
    expect(parseMountinfo(PI_V1).v1.get('cpuacct')).toBe('/sys/fs/cgroup/cpu,cpuacct');
    expect(parseMountinfo(line(29, '/sys/fs/cgroup', 'cgroup2', 'rw,nsdelegate'))).toEqual({ v1: new Map(), unified: '/sys/fs/cgroup' });
    expect(parseMountinfo(line(29, '/mnt/my\\040cgroups', 'cgroup2', 'rw')).unified).toBe('/mnt/my cgroups');
  });

  it('reads the controllers the kernel command line disabled out of /proc/cgroups', () => {
    expect([...disabledControllers(PROC_CGROUPS_NO_MEMORY)]).toEqual(['memory']);
  });

  it.each<[string, string, string, string]>([
    ['no cgroup filesystem at all', '', '', 'NoCgroups'],
    ['a Raspberry Pi kernel without the memory controller (cgroup_disable=memory)', line(29, path.join(tmp, 'v2-nomem'), 'cgroup2', 'rw'), PROC_CGROUPS_NO_MEMORY, 'MemoryCgroupDisabled'],
    ['a tree the agent may not write (here: under a file)', line(29, path.join(tmp, 'a-file', 'cgroup'), 'cgroup', 'rw,memory'), '', 'CgroupNotWritable'],
  ])('%s → %s, with the fix in the message', (_what, mountinfo, procCgroups, reason) => {
    fs.mkdirSync(path.join(tmp, 'v2-nomem'), { recursive: true });
    fs.writeFileSync(path.join(tmp, 'v2-nomem', 'cgroup.controllers'), 'cpuset cpu io pids\n');
    fs.writeFileSync(path.join(tmp, 'a-file'), '');
    const found = detectCgroups({ mountinfo, procCgroups, name: 'skiff/agent-test' });
    expect(found).toMatchObject({ ok: false, reason });
    if (found.ok) return;
    if (reason === 'MemoryCgroupDisabled') expect(found.message).toContain(memoryCgroupFix);
    if (reason === 'CgroupNotWritable') expect(found.message).toMatch(/ENOTDIR.*run skiff-agent as root/);
  });
});

describe('limits written on a fake v2 tree', () => {
  const root = path.join(tmp, 'v2');
  fs.mkdirSync(root, { recursive: true });
  fs.writeFileSync(path.join(root, 'cgroup.controllers'), 'cpuset cpu io memory hugetlb pids rdma\n');
  const found = detectCgroups({ mountinfo: line(29, root, 'cgroup2', 'rw,nsdelegate'), procCgroups: '', name: 'skiff/agent-x', podPidsLimit: 100 });
  const read = (...p: string[]) => fs.readFileSync(path.join(root, ...p), 'utf8');

  it('delegates the controllers down the tree and sets memory.max, cpu.max, cpu.weight and the pod pids.max', async () => {
    expect(found).toMatchObject({ ok: true, cgroups: { version: 'v2', controllers: ['memory', 'cpu', 'pids'] } });
    if (!found.ok) return;
    const cg = found.cgroups.container('uid-1', 'main');
    const procs = await cg.prepare({ memoryBytes: 32 << 20, cpuMilli: 250, cpuRequestMilli: 100 });
    expect(procs).toEqual([path.join(root, 'skiff/agent-x/uid-1/main/cgroup.procs')]);
    for (const level of ['', 'skiff', 'skiff/agent-x', 'skiff/agent-x/uid-1']) expect(read(level, 'cgroup.subtree_control')).toBe('+memory +cpu +pids');
    expect(read('skiff/agent-x/uid-1/pids.max')).toBe('100');
    expect(read('skiff/agent-x/uid-1/main/memory.max')).toBe(String(32 << 20));
    expect(read('skiff/agent-x/uid-1/main/cpu.max')).toBe('25000 100000');
    expect(read('skiff/agent-x/uid-1/main/cpu.weight')).toBe(String(sharesToWeight(milliToShares(100))));
    expect(found.cgroups.podUids()).toEqual(['uid-1']);
  });

  it('reads OOM kills from memory.events and the working set and cpu time from memory.current, memory.stat, cpu.stat', () => {
    if (!found.ok) return;
    const dir = path.join(root, 'skiff/agent-x/uid-1/main');
    fs.writeFileSync(path.join(dir, 'memory.events'), 'low 0\nhigh 0\nmax 12\noom 1\noom_kill 1\n');
    fs.writeFileSync(path.join(dir, 'memory.current'), '10000000\n');
    fs.writeFileSync(path.join(dir, 'memory.stat'), 'anon 8000000\nfile 2000000\ninactive_file 1500000\n');
    fs.writeFileSync(path.join(dir, 'cpu.stat'), 'usage_usec 2500\nuser_usec 2000\nsystem_usec 500\n');
    const cg = found.cgroups.container('uid-1', 'main');
    expect(cg.oomKills()).toBe(1);
    expect(cg.usage()).toEqual({ memoryBytes: 8_500_000, cpuNanos: 2_500_000 });
  });
});

describe('limits written on a fake v1 tree (cpu and cpuacct joined, as older Raspberry Pi OS mounts them)', () => {
  const mounts = { memory: path.join(tmp, 'v1', 'memory'), cpu: path.join(tmp, 'v1', 'cpu,cpuacct'), pids: path.join(tmp, 'v1', 'pids') };
  for (const m of Object.values(mounts)) fs.mkdirSync(m, { recursive: true });
  const mountinfo = [line(30, mounts.cpu, 'cgroup', 'rw,cpu,cpuacct'), line(31, mounts.memory, 'cgroup', 'rw,memory'), line(32, mounts.pids, 'cgroup', 'rw,pids')].join('\n');
  const found = detectCgroups({ mountinfo, procCgroups: '', name: 'skiff/agent-y', podPidsLimit: 64, podsCpuMilli: 1900 });

  it('writes each controller in its own hierarchy and enters all of them', async () => {
    expect(found).toMatchObject({ ok: true, cgroups: { version: 'v1', controllers: ['memory', 'cpu', 'pids'] } });
    if (!found.ok) return;
    const procs = await found.cgroups.container('uid-2', 'main').prepare({ memoryBytes: 64 << 20, cpuMilli: 500 });
    expect(procs.sort()).toEqual([mounts.cpu, mounts.memory, mounts.pids].map((m) => path.join(m, 'skiff/agent-y/uid-2/main/cgroup.procs')).sort());
    const read = (m: string, f: string) => fs.readFileSync(path.join(m, 'skiff/agent-y/uid-2', f), 'utf8');
    expect(read(mounts.memory, 'main/memory.limit_in_bytes')).toBe(String(64 << 20));
    expect(read(mounts.cpu, 'main/cpu.cfs_quota_us')).toBe(String(milliToQuota(500)));
    expect(read(mounts.cpu, 'main/cpu.cfs_period_us')).toBe('100000');
    expect(read(mounts.cpu, 'main/cpu.shares')).toBe('512'); // the request defaults to the limit
    expect(read(mounts.pids, 'pids.max')).toBe('64');
    // The pods' subtree weighs as the node's allocatable cpu, not as one process among the host's.
    for (const level of ['skiff', 'skiff/agent-y']) expect(fs.readFileSync(path.join(mounts.cpu, level, 'cpu.shares'), 'utf8')).toBe(String(milliToShares(1900)));
    fs.writeFileSync(path.join(mounts.memory, 'skiff/agent-y/uid-2/main/memory.oom_control'), 'oom_kill_disable 0\nunder_oom 0\noom_kill 2\n');
    expect(found.cgroups.container('uid-2', 'main').oomKills()).toBe(2);
  });
});

/** The real hierarchies of this machine, when the agent may write them (root on a v1 or v2 host with memory). */
const real = detectCgroups({ name: `skiff/test-cgroups-${process.pid}` });
describe.runIf(real.ok)('the kernel enforcing the limits (real cgroups)', () => {
  const cgroups = real.ok ? real.cgroups : undefined!;
  afterAll(async () => {
    for (const uid of cgroups.podUids()) await cgroups.removePod(uid);
    cgroups.dispose();
  });
  let n = 0;
  const launch = (argv: string[], over: Partial<LaunchSpec> = {}): LaunchSpec => {
    const podUid = `uid-real-${++n}`;
    return {
      podUid, namespace: 'default', podName: 'p', containerName: 'main', argv, env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
      logFile: path.join(tmp, podUid, '0.log'), stateDir: path.join(tmp, podUid), restartCount: 0, graceMs: 2000,
      cgroup: cgroups.container(podUid, 'main'), limits: {}, ...over,
    };
  };

  it('a cpu limit of 20m holds a busy loop to about 2% of a core', async () => {
    const spec = launch(['/bin/sh', '-c', 'while :; do :; done'], { limits: { cpuMilli: 20 } });
    const h = await processDriver.start(spec);
    await new Promise((r) => setTimeout(r, 3000));
    const used = h.stats()!.cpuNanos!;
    await h.stop(1000);
    // 2 ms of every 100 ms period over ~3 s is 60 ms; unlimited, even a loaded 2-core box gives it far more.
    expect(used).toBeLessThan(150e6);
    expect(used).toBeGreaterThan(0);
  });

  it('the pod pids limit stops a fork loop', async () => {
    const small = detectCgroups({ name: `skiff/test-pids-${process.pid}`, podPidsLimit: 8 });
    if (!small.ok || !small.cgroups.controllers.includes('pids')) return expect(small.ok).toBe(true);
    const spec = launch(['/bin/sh', '-c', 'ok=0; for i in $(seq 30); do sleep 5 & ok=$((ok+1)); done; echo started; wait'], { cgroup: small.cgroups.container('uid-pids', 'main') });
    const h = await processDriver.start(spec);
    await eventually(() => fs.existsSync(spec.logFile) && /fork|Resource temporarily unavailable|Cannot fork/i.test(fs.readFileSync(spec.logFile, 'utf8')), 'a refused fork in the log');
    await h.stop(500);
    await small.cgroups.removePod('uid-pids');
    small.cgroups.dispose();
  });

  it('what left the process group but not the cgroup ends with the container', async () => {
    const pidFile = path.join(tmp, 'escaped.pid');
    const spec = launch(['/bin/sh', '-c', `setsid sleep 1000 & echo $! > ${pidFile}; sleep 0.2; exit 0`]);
    const h = await processDriver.start(spec);
    expect(await h.exited).toMatchObject({ exitCode: 0 });
    const pid = Number(fs.readFileSync(pidFile, 'utf8'));
    const start = readStat(pid)?.startTime;
    await eventually(() => start === undefined || !isSameProcess(pid, start), 'the escaped sleep killed');
    expect(execFileSync('cat', [path.join(cgroups.container(spec.podUid, 'main').procsFiles()[0])]).toString().trim()).toBe('');
  });
});

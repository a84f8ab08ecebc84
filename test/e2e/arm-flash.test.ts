/**
 * `skiff-agent flash` into a copy of an arm64 root filesystem (Debian's node sysroot of helpers/arm.ts), then the
 * unit's own ExecStart and Environment, run inside that root under emulation (chroot + qemu-aarch64-static, as a
 * board's systemd would run them at first boot): the board joins the master under the hostname given to flash.
 * Needs root (chroot, mount proc, mknod), as CI has.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, createWriteStream, existsSync, readFileSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startMaster, type Master } from '../../master/index.js';
import type { Node } from '../../protocol/index.js';
import { armSysroot, qemuFor } from '../helpers/arm.js';
import { bundleFile, requireBundle } from '../helpers/bundle-agent.js';
import { testEngine } from '../helpers/cluster.js';
import { eventually, tempDir } from '../helpers/wait.js';

const run = promisify(execFile);

/** Runs the bundle's flash with the host's node. */
async function flash(args: string[]): Promise<{ code: number; out: string; err: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [bundleFile, 'flash', ...args], { timeout: 60_000 });
    return { code: 0, out: stdout, err: stderr };
  } catch (e) {
    const x = e as { code?: number; stdout?: string; stderr?: string };
    return { code: x.code ?? 1, out: x.stdout ?? '', err: x.stderr ?? '' };
  }
}

/** A unit file's `Key=` values, in order. */
function unitValues(unit: string, key: string): string[] {
  return unit.split('\n').filter((l) => l.startsWith(`${key}=`)).map((l) => l.slice(key.length + 1));
}

describe('e2e: flash an arm64 root filesystem, boot its unit in emulation', () => {
  let dir: string;
  let rootfs: string;
  let master: Master;
  let board: ChildProcess | undefined;
  let procMounted = false;

  beforeAll(async () => {
    requireBundle();
    dir = await tempDir('skiff-flash-');
    rootfs = join(dir, 'rootfs');
    // Hard links: quick, and safe (flash replaces files by rename, and the board writes only new files).
    execFileSync('cp', ['-al', await armSysroot('arm64'), rootfs]);
    master = await startMaster({ dataDir: join(dir, 'master'), mqttPort: 0, httpPort: -1, mqttHost: '127.0.0.1', quiet: true, engine: testEngine, mdns: false, podSecurityDefault: 'privileged' });
  }, 300_000);

  afterAll(async () => {
    if (board && board.exitCode === null && board.signalCode === null) {
      const gone = new Promise((r) => board!.once('exit', r));
      board.kill('SIGTERM');
      await gone;
    }
    if (procMounted) execFileSync('umount', ['-l', join(rootfs, 'proc')]);
    await master?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  }, 60_000);

  it('refuses a directory that is not a root filesystem', async () => {
    const r = await flash(['--rootfs', dir, '--master', master.url, '--token', 'x']);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`--rootfs ${dir}: not a root filesystem (no /etc, no /usr)`);
  });

  it('writes the bundle, the token, the unit and the hostname; a second run changes nothing', async () => {
    const tokenFile = join(dir, 'join.token');
    writeFileSync(tokenFile, master.joinToken + '\n', { mode: 0o600 });
    const args = ['--rootfs', rootfs, '--master', master.url, '--token-file', tokenFile, '--hostname', 'pi-flash', '--labels', 'zone=greenhouse'];
    const first = await flash(args);
    expect(first.err).toBe('');
    expect(first.code).toBe(0);
    expect(first.out).toContain('created /usr/local/lib/skiff/skiff-agent.mjs');
    expect(first.out).toContain(`flashed ${rootfs}: the board joins ${master.url} as "pi-flash" on first boot`);
    const second = await flash(args);
    expect(second.out.trim()).toBe(`unchanged: ${rootfs} already joins ${master.url} as "pi-flash" on first boot`);

    expect(readFileSync(join(rootfs, 'usr/local/lib/skiff/skiff-agent.mjs')).equals(readFileSync(bundleFile))).toBe(true);
    expect(readFileSync(join(rootfs, 'etc/skiff/join.token'), 'utf8').trim()).toBe(master.joinToken);
    expect(statSync(join(rootfs, 'etc/skiff/join.token')).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(rootfs, 'etc/hostname'), 'utf8')).toBe('pi-flash\n');
    expect(readFileSync(join(rootfs, 'etc/hosts'), 'utf8')).toMatch(/^127\.0\.1\.1\tpi-flash$/m);
    expect(readlinkSync(join(rootfs, 'etc/systemd/system/multi-user.target.wants/skiff-agent.service'))).toBe('/etc/systemd/system/skiff-agent.service');
    const unit = readFileSync(join(rootfs, 'etc/systemd/system/skiff-agent.service'), 'utf8');
    expect(unit).not.toContain(master.joinToken);
    expect(unitValues(unit, 'KillMode')).toEqual(['process']);
    expect(unitValues(unit, 'Restart')).toEqual(['always']);
    expect(unitValues(unit, 'ExecStart')[0]).toMatch(/^\/usr\/bin\/node \/usr\/local\/lib\/skiff\/skiff-agent\.mjs join /);
  }, 120_000);

  it("the unit's ExecStart, run inside the root under emulation, joins as the hostname", async () => {
    const unit = readFileSync(join(rootfs, 'etc/systemd/system/skiff-agent.service'), 'utf8');
    const exec = unitValues(unit, 'ExecStart')[0].split(' '); // flash writes plain words for these settings
    const env = Object.fromEntries(unitValues(unit, 'Environment').map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));
    copyFileSync(qemuFor('arm64')!, join(rootfs, 'qemu-aarch64-static'));
    if (!existsSync(join(rootfs, 'dev/null'))) execFileSync('sh', ['-c', `mkdir -p ${rootfs}/dev && mknod -m 666 ${rootfs}/dev/null c 1 3`]);
    execFileSync('mkdir', ['-p', join(rootfs, 'proc')]);
    execFileSync('mount', ['-t', 'proc', 'proc', join(rootfs, 'proc')]);
    procMounted = true;
    const out = createWriteStream(join(dir, 'board.log'));
    // systemd gives a service a clean environment: the unit's Environment= and a PATH.
    board = spawn('chroot', [rootfs, '/qemu-aarch64-static', '-cpu', 'cortex-a72', ...exec], { env: { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    board.stdout!.pipe(out);
    board.stderr!.pipe(out);
    const node = await eventually(() => {
      const n = master.informers.get('Node', undefined, 'pi-flash');
      return n?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') && n;
    }, 'pi-flash Ready', 120_000, 100).catch((err) => {
      throw new Error(`${(err as Error).message}\nboard log:\n${readFileSync(join(dir, 'board.log'), 'utf8')}`);
    });
    expect(node.metadata.labels).toMatchObject({ 'kubernetes.io/arch': 'arm64', 'kubernetes.io/hostname': 'pi-flash', zone: 'greenhouse' });
    // The agent keeps its state where the unit says, inside the board.
    expect(existsSync(join(rootfs, 'var/lib/skiff-agent/credential'))).toBe(true);
  }, 180_000);
});

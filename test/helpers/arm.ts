/**
 * ARM boards, emulated: Debian's own Node 18 for arm64 (or armhf) in a sysroot, run by qemu-user-static on this
 * x86 machine — what a Raspberry Pi runs, so agent code meets the Node and libc a board has.
 *
 *   armSysroot(arch)      builds the sysroot once and returns its path (cached: later calls, and other test
 *                         files racing for it, find it complete); apt runs with a private configuration and
 *                         lists, so the machine's apt state is untouched
 *   armNodeCommand(arch)  the command line that runs that node (qemu, its -cpu, -L, the node binary)
 *   armNodeShim(arch)     an executable `node` script running the emulated node: for a PATH, or for an agent's
 *                         --wasi-node (under qemu-user a process cannot exec an ARM binary itself: the host has
 *                         no binfmt_misc entry for ARM, so `process.execPath` and fork() fail)
 *
 * The cache lives in $SKIFF_ARM_CACHE, default <tmpdir>/skiff-arm-cache (<cache>/<arch>/sysroot, `complete`
 * beside it once built). Needs qemu-user-static, apt-get and dpkg-deb (.ci/run installs qemu-user-static).
 * A standalone port of the shared arm.sh, for this repository's tests and benches.
 */
import { execFile, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The ARM flavours a Raspberry Pi runs: 64-bit, and 32-bit hard-float. */
export type ArmArch = 'arm64' | 'armhf';

const qemuOf: Record<ArmArch, string> = { arm64: 'qemu-aarch64-static', armhf: 'qemu-arm-static' };
/** The emulated core: a Pi 4 (Cortex-A72) for arm64, a Pi 2 (Cortex-A7) for armhf; ARM_QEMU_CPU overrides. */
const cpuOf = (arch: ArmArch) => process.env.ARM_QEMU_CPU || (arch === 'arm64' ? 'cortex-a72' : 'cortex-a7');
/** What `process.arch` (and the kubernetes.io/arch label) says on each. */
export const nodeArchOf: Record<ArmArch, string> = { arm64: 'arm64', armhf: 'arm' };

/** Where sysroots are cached. */
export const armCache = () => process.env.SKIFF_ARM_CACHE || path.join(os.tmpdir(), 'skiff-arm-cache');

/** The qemu binary for `arch`, or throws naming the package to install. */
export function qemuFor(arch: ArmArch): string {
  for (const dir of (process.env.PATH ?? '/usr/bin:/bin').split(':')) {
    const p = path.join(dir, qemuOf[arch]);
    if (fs.existsSync(p)) return p;
  }
  throw new Error(`${qemuOf[arch]} is not installed: apt-get install qemu-user-static`);
}

/** A build lock: a directory only one process can create; a holder that died leaves it to the next. */
async function withLock<T>(dir: string, fn: () => Promise<T>): Promise<T> {
  const lock = path.join(dir, 'lock.d');
  const deadline = Date.now() + 15 * 60_000;
  for (;;) {
    try {
      fs.mkdirSync(lock);
      fs.writeFileSync(path.join(lock, 'pid'), String(process.pid));
      break;
    } catch {
      const holder = Number(fs.readFileSync(path.join(lock, 'pid'), 'utf8').trim() || 0);
      let alive = holder > 0;
      try {
        if (alive) process.kill(holder, 0);
      } catch {
        alive = false;
      }
      if (!alive) fs.rmSync(lock, { recursive: true, force: true });
      else if (Date.now() > deadline) throw new Error(`arm sysroot: ${lock} held by pid ${holder} for 15 min`);
      else await new Promise((r) => setTimeout(r, 500));
    }
  }
  try {
    return await fn();
  } finally {
    fs.rmSync(lock, { recursive: true, force: true });
  }
}

/** apt confined to `dir`, seeing only `arch`'s packages. */
function aptOptions(arch: ArmArch, dir: string): string[] {
  const o = {
    'APT::Architecture': arch, 'APT::Architectures::': arch, 'Dir::State::Lists': `${dir}/lists`, 'Dir::State::status': `${dir}/status`,
    'Dir::Cache': `${dir}/cache`, 'Dir::Etc::SourceList': `${dir}/sources.list`, 'Dir::Etc::SourceParts': `${dir}/sources.list.d`,
    'Dir::Etc::Preferences': '/dev/null', 'Dir::Etc::PreferencesParts': `${dir}/preferences.d`, 'APT::Sandbox::User': 'root', 'Acquire::Languages': 'none',
  };
  return Object.entries(o).flatMap(([k, v]) => ['-o', `${k}=${v}`]);
}

/** The machine's Debian sources without an Architectures restriction (same mirror), else deb.debian.org. */
function sources(): string {
  const own = '/etc/apt/sources.list.d/debian.sources';
  if (fs.existsSync(own)) return fs.readFileSync(own, 'utf8').split('\n').filter((l) => !l.startsWith('Architectures:')).join('\n');
  const codename = /^VERSION_CODENAME=(\S+)/m.exec(fs.readFileSync('/etc/os-release', 'utf8'))?.[1] ?? 'bookworm';
  return `Types: deb\nURIs: http://deb.debian.org/debian\nSuites: ${codename} ${codename}-updates\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n`;
}

/** Merged /usr (glibc's loader checks library dirs with statx, which qemu-user does not map into -L) and relative absolute links. */
function fixLayout(root: string): void {
  for (const d of ['bin', 'sbin', 'lib', 'lib32', 'lib64', 'libx32']) {
    const p = path.join(root, d);
    if (!fs.existsSync(p) || fs.lstatSync(p).isSymbolicLink()) continue;
    fs.mkdirSync(path.join(root, 'usr', d), { recursive: true });
    fs.cpSync(p, path.join(root, 'usr', d), { recursive: true, verbatimSymlinks: true });
    fs.rmSync(p, { recursive: true, force: true });
    fs.symlinkSync(`usr/${d}`, p);
  }
  // qemu resolves -L paths with the host's access(), which follows an absolute link out of the sysroot.
  for (const e of fs.readdirSync(root, { recursive: true, withFileTypes: true })) {
    if (!e.isSymbolicLink()) continue;
    const link = path.join(e.parentPath ?? (e as unknown as { path: string }).path, e.name);
    const target = fs.readlinkSync(link);
    if (!target.startsWith('/')) continue;
    fs.rmSync(link);
    fs.symlinkSync(path.relative(path.dirname(link), path.join(root, target)), link);
  }
}

/** Builds the sysroot into `tmp`: Debian's nodejs for `arch` and everything it depends on, unpacked. */
async function build(arch: ArmArch, base: string, tmp: string): Promise<string> {
  const apt = path.join(base, 'apt');
  const debs = path.join(base, 'debs');
  for (const d of [tmp, debs, path.join(apt, 'sources.list.d')]) fs.rmSync(d, { recursive: true, force: true });
  for (const d of ['lists/partial', 'cache/archives/partial', 'sources.list.d', 'preferences.d']) fs.mkdirSync(path.join(apt, d), { recursive: true });
  fs.mkdirSync(debs, { recursive: true });
  fs.mkdirSync(tmp, { recursive: true });
  fs.writeFileSync(path.join(apt, 'status'), '');
  fs.writeFileSync(path.join(apt, 'sources.list.d', 'debian.sources'), sources());
  const o = aptOptions(arch, apt);
  // An index that fails (bookworm-security armhf has served a size mismatch) is not fatal: the main archive is enough.
  await run('apt-get', [...o, 'update'], { maxBuffer: 64 << 20 }).catch(() => undefined);
  const { stdout } = await run('apt-cache', [...o, 'depends', '--recurse', '--no-recommends', '--no-suggests', '--no-conflicts', '--no-breaks', '--no-replaces', '--no-enhances', 'nodejs'], { maxBuffer: 64 << 20 });
  const pkgs = [...new Set(stdout.split('\n').filter((l) => l && !/^[ <]/.test(l)))];
  if (!pkgs.includes('nodejs')) throw new Error(`arm sysroot: no nodejs package for ${arch}`);
  await run('apt-get', [...o, 'download', ...pkgs], { cwd: debs, maxBuffer: 64 << 20 });
  for (const f of fs.readdirSync(debs).filter((n) => n.endsWith('.deb'))) await run('dpkg-deb', ['-x', path.join(debs, f), tmp]);
  fixLayout(tmp);
  const { stdout: got } = await run(qemuFor(arch), ['-cpu', cpuOf(arch), '-L', tmp, path.join(tmp, 'usr/bin/node'), '-p', 'process.arch+" "+process.version'], { timeout: 120_000 });
  if (got.split(' ')[0] !== nodeArchOf[arch]) throw new Error(`arm sysroot: the unpacked node reports "${got.trim()}"`);
  return got.trim();
}

/** The sysroot of `arch` (built once; see the file comment). */
export async function armSysroot(arch: ArmArch): Promise<string> {
  qemuFor(arch);
  const base = path.join(armCache(), arch);
  const root = path.join(base, 'sysroot');
  const complete = () => fs.existsSync(path.join(base, 'complete')) && fs.existsSync(path.join(root, 'usr/bin/node'));
  if (complete()) return root;
  fs.mkdirSync(base, { recursive: true });
  await withLock(base, async () => {
    if (complete()) return;
    const tmp = path.join(base, 'sysroot.tmp');
    const version = await build(arch, base, tmp);
    fs.rmSync(root, { recursive: true, force: true });
    fs.renameSync(tmp, root);
    fs.writeFileSync(path.join(base, 'complete'), `node ${version}\n`);
  });
  return root;
}

/** The command line that runs the emulated node of `arch`. */
export async function armNodeCommand(arch: ArmArch): Promise<string[]> {
  const root = await armSysroot(arch);
  return [qemuFor(arch), '-cpu', cpuOf(arch), '-L', root, path.join(root, 'usr/bin/node')];
}

/** An executable `node` that runs the emulated node of `arch` (written once beside the sysroot). */
export async function armNodeShim(arch: ArmArch): Promise<string> {
  const cmd = await armNodeCommand(arch);
  const file = path.join(armCache(), arch, 'bin', 'node');
  const text = `#!/bin/sh\nexec ${cmd.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ')} "$@"\n`;
  if (fs.existsSync(file) && fs.readFileSync(file, 'utf8') === text) return file;
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}`;
  fs.writeFileSync(tmp, text, { mode: 0o755 });
  fs.renameSync(tmp, file);
  return file;
}

/** The same command line as armNodeCommand (append the script and its arguments). */
export const armNode = armNodeCommand;

/** Spawns the emulated node of `arch` with `args` (script first). */
export async function spawnArmNode(arch: ArmArch, args: string[], opts: SpawnOptions = {}): Promise<ChildProcess> {
  const [cmd, ...rest] = await armNodeCommand(arch);
  return spawn(cmd, [...rest, ...args], opts);
}

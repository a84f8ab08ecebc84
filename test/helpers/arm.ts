/**
 * Node.js on emulated ARM, for tests and benches: Debian's own `nodejs` for arm64 or armhf (what a Raspberry Pi
 * runs: Node 18 on Bookworm), fetched with `apt-get download`, unpacked once into a cached sysroot, and run under
 * qemu-user (`qemu-aarch64-static -L SYSROOT SYSROOT/usr/bin/node ...`).
 *
 *   const cmd = await armNode('arm64');            // ['qemu-aarch64-static', '-cpu', 'cortex-a72', '-L', root, root + '/usr/bin/node']
 *   spawn(cmd[0], [...cmd.slice(1), 'agent.mjs', 'join', ...]);
 *
 * Packages come through a private apt configuration (its own lists and status under the cache dir, the system's
 * Debian sources without an `Architectures:` restriction), so no foreign architecture has to be added to dpkg
 * and the system's apt state stays as it was. The cache is `$SKIFF_ARM_CACHE`, else `$XDG_CACHE_HOME/skiff-test/arm`
 * (`~/.cache/skiff-test/arm`): built once per machine, reused by every later run; a lock lets parallel test files
 * share one build. Needs qemu-user-static, apt-get and dpkg-deb (.ci/run installs qemu-user-static).
 *
 * Under qemu-user an emulated process cannot exec another ARM binary (no binfmt_misc entry here), so code under
 * test must not spawn `process.execPath`; host binaries (/bin/sh, the host's node) run as usual.
 */
import { execFile, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { existsSync, promises as fsp, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The Debian architectures this helper runs. */
export type ArmArch = 'arm64' | 'armhf';

/** What `process.arch` says on each (and so the node's `kubernetes.io/arch` label: arm64, arm). */
export const nodeArchOf: Record<ArmArch, string> = { arm64: 'arm64', armhf: 'arm' };

const qemuOf: Record<ArmArch, string> = { arm64: 'qemu-aarch64-static', armhf: 'qemu-arm-static' };
/** The emulated core: a Pi 4's Cortex-A72 for arm64, a Pi 2's Cortex-A7 for armhf. */
const cpuOf: Record<ArmArch, string> = { arm64: 'cortex-a72', armhf: 'cortex-a7' };

/** The cache directory. */
export function armCacheDir(): string {
  return process.env.SKIFF_ARM_CACHE ?? path.join(process.env.XDG_CACHE_HOME ?? path.join(homedir(), '.cache'), 'skiff-test', 'arm');
}

/** The qemu binary for `arch`, or undefined when qemu-user-static is not installed. */
export function qemuFor(arch: ArmArch): string | undefined {
  for (const dir of (process.env.PATH ?? '/usr/bin').split(':')) if (existsSync(path.join(dir, qemuOf[arch]))) return path.join(dir, qemuOf[arch]);
  return undefined;
}

/** apt-get / apt-cache confined to `dir`, seeing `arch`'s packages only. */
function apt(arch: ArmArch, dir: string, tool: 'apt-get' | 'apt-cache', args: string[], cwd?: string) {
  const o = [
    `APT::Architecture=${arch}`, `APT::Architectures::=${arch}`, `Dir::State::Lists=${dir}/lists`, `Dir::State::status=${dir}/status`,
    `Dir::Cache=${dir}/cache`, `Dir::Etc::SourceList=${dir}/sources.list`, `Dir::Etc::SourceParts=${dir}/sources.list.d`,
    'Dir::Etc::Preferences=/dev/null', `Dir::Etc::PreferencesParts=${dir}/preferences.d`, 'APT::Sandbox::User=root', 'Acquire::Languages=none',
  ].flatMap((x) => ['-o', x]);
  return run(tool, [...o, ...args], { cwd, maxBuffer: 64 * 1024 * 1024, timeout: 600_000 });
}

/** The system's Debian sources (same mirror and suites), without an architecture restriction. */
function sources(): string {
  if (existsSync('/etc/apt/sources.list.d/debian.sources'))
    return readFileSync('/etc/apt/sources.list.d/debian.sources', 'utf8').split('\n').filter((l) => !l.startsWith('Architectures:')).join('\n');
  const codename = /^VERSION_CODENAME=(\w+)/m.exec(readFileSync('/etc/os-release', 'utf8'))?.[1] ?? 'bookworm';
  return `Types: deb\nURIs: http://deb.debian.org/debian\nSuites: ${codename} ${codename}-updates\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n`;
}

/** Merged /usr, and absolute links made relative: qemu's -L lookups would otherwise leave the sysroot (see arm.sh). */
async function fixLayout(root: string): Promise<void> {
  for (const d of ['bin', 'sbin', 'lib', 'lib32', 'lib64', 'libx32']) {
    const p = path.join(root, d);
    const st = await fsp.lstat(p).catch(() => undefined);
    if (!st?.isDirectory()) continue;
    await fsp.mkdir(path.join(root, 'usr', d), { recursive: true });
    await fsp.cp(p, path.join(root, 'usr', d), { recursive: true, verbatimSymlinks: true });
    await fsp.rm(p, { recursive: true });
    await fsp.symlink(`usr/${d}`, p);
  }
  const walk = async (dir: string): Promise<void> => {
    for (const e of await fsp.readdir(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isSymbolicLink()) {
        const target = await fsp.readlink(p);
        if (!target.startsWith('/')) continue;
        await fsp.rm(p);
        await fsp.symlink(path.relative(path.dirname(p), path.join(root, target)) || '.', p);
      }
    }
  };
  await walk(root);
}

/** Holds `lock` while `fn` runs (a second process waits; a lock left by a dead process is taken over). */
async function withLock<T>(lock: string, fn: () => Promise<T>): Promise<T> {
  for (;;) {
    try {
      await fsp.writeFile(lock, String(process.pid), { flag: 'wx' });
      break;
    } catch {
      const pid = Number(await fsp.readFile(lock, 'utf8').catch(() => '0'));
      let alive = false;
      try {
        alive = pid > 0 && (process.kill(pid, 0), true);
      } catch {
        alive = false;
      }
      if (!alive) await fsp.rm(lock, { force: true });
      else await new Promise((r) => setTimeout(r, 500));
    }
  }
  try {
    return await fn();
  } finally {
    await fsp.rm(lock, { force: true });
  }
}

/** Builds (once) and returns the sysroot holding Debian's nodejs for `arch`. */
export async function armSysroot(arch: ArmArch): Promise<string> {
  const qemu = qemuFor(arch);
  if (!qemu) throw new Error(`test/helpers/arm.ts: ${qemuOf[arch]} not found: apt-get install qemu-user-static (.ci/run does)`);
  const base = path.join(armCacheDir(), arch);
  const root = path.join(base, 'sysroot');
  const complete = path.join(base, 'complete');
  if (existsSync(complete) && existsSync(path.join(root, 'usr/bin/node'))) return root;
  await fsp.mkdir(base, { recursive: true });
  return withLock(path.join(base, 'lock'), async () => {
    if (existsSync(complete) && existsSync(path.join(root, 'usr/bin/node'))) return root;
    const dir = path.join(base, 'apt');
    const debs = path.join(base, 'debs');
    const tmp = path.join(base, 'sysroot.tmp');
    await Promise.all([dir, debs, tmp].map((d) => fsp.rm(d, { recursive: true, force: true })));
    for (const d of ['lists/partial', 'cache/archives/partial', 'sources.list.d', 'preferences.d']) await fsp.mkdir(path.join(dir, d), { recursive: true });
    await Promise.all([fsp.mkdir(debs), fsp.mkdir(tmp), fsp.writeFile(path.join(dir, 'status'), ''), fsp.writeFile(path.join(dir, 'sources.list.d', 'debian.sources'), sources())]);
    // An index that fails (a security suite's armhf index has served a size mismatch) is not fatal: the main archive is enough.
    await apt(arch, dir, 'apt-get', ['update']).catch((err: Error) => process.stderr.write(`arm.ts: ${arch}: apt-get update: ${err.message.split('\n')[0]}; going on\n`));
    const deps = await apt(arch, dir, 'apt-cache', ['depends', '--recurse', '--no-recommends', '--no-suggests', '--no-conflicts', '--no-breaks', '--no-replaces', '--no-enhances', 'nodejs']);
    const pkgs = [...new Set(deps.stdout.split('\n').filter((l) => l && !/^[ <]/.test(l)))];
    if (!pkgs.includes('nodejs')) throw new Error(`arm.ts: no nodejs package for ${arch}`);
    await apt(arch, dir, 'apt-get', ['download', ...pkgs], debs);
    for (const f of (await fsp.readdir(debs)).filter((f) => f.endsWith('.deb'))) await run('dpkg-deb', ['-x', path.join(debs, f), tmp]);
    await fixLayout(tmp);
    const { stdout } = await run(qemu, ['-cpu', cpuOf[arch], '-L', tmp, path.join(tmp, 'usr/bin/node'), '-p', 'process.arch+" "+process.version'], { timeout: 120_000 });
    if (stdout.split(' ')[0] !== nodeArchOf[arch]) throw new Error(`arm.ts: the ${arch} node says "${stdout.trim()}"`);
    await fsp.rm(root, { recursive: true, force: true });
    await fsp.rename(tmp, root);
    await fsp.rm(debs, { recursive: true, force: true }); // the sysroot is what is kept
    await fsp.writeFile(complete, `node ${stdout.trim()}\n${pkgs.join(' ')}\n`);
    return root;
  });
}

/** The command that runs emulated node: qemu, its flags, then the sysroot's node (append the script and its arguments). */
export async function armNode(arch: ArmArch): Promise<string[]> {
  const root = await armSysroot(arch);
  return [qemuFor(arch)!, '-cpu', cpuOf[arch], '-L', root, path.join(root, 'usr/bin/node')];
}

/** Spawns emulated node with `args` (script first). */
export async function spawnArmNode(arch: ArmArch, args: string[], opts: SpawnOptions = {}): Promise<ChildProcess> {
  const [cmd, ...rest] = await armNode(arch);
  return spawn(cmd, [...rest, ...args], opts);
}

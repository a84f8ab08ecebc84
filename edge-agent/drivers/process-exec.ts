/**
 * `exec` for host-process containers: the command runs the way the container's process runs — its resolved
 * env, its workingDir, inside its cgroup (so it counts against the container's limits, as a `kubectl exec`
 * does), in a process group of its own. With a terminal, no native pty addon is needed: `script -qfec CMD
 * /dev/null` (util-linux/bsdutils, on every Debian and Raspberry Pi OS) or, without it, python3's pty module
 * allocates one; the size is set with `stty` inside it before the command runs, and a resize is
 * `stty -F /dev/pts/N` from outside, which makes the kernel send SIGWINCH to the terminal's foreground group.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { constants as osConstants } from 'node:os';
import { SkiffError } from '../../protocol/errors.js';
import { killGroup, readAllStats, treeOf } from '../procfs.js';
import { findExecutable } from './executable.js';
import { asUser } from './run-as.js';
import type { ExecRequest, ExecSession, ExecTarget } from './types.js';

/** After the command exits, how long its output pipes may stay open (a child that left the group holds them); 1 s. */
const DRAIN_MS = 1000;

/** Quotes one word for sh. */
export const shQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** Enters the cgroup files given before `--`, then execs the rest (the driver's wrapper does the same for attempts). */
const enterThenExec = 'while [ "$1" != -- ]; do echo $$ > "$1" || { echo "skiff-agent: cannot enter cgroup $1" >&2; exit 125; }; shift; done; shift; exec "$@"';

/** python3's pty module as a terminal: the fallback where util-linux's `script` is missing. */
const pythonPty = 'import os,pty,sys\nst=pty.spawn(sys.argv[1:])\nc=os.WEXITSTATUS(st) if os.WIFEXITED(st) else 128+os.WTERMSIG(st)\nsys.exit(c)';

/** The argv that runs `inner` (a sh command line) on a new terminal, or why there is none. */
export function ptyCommand(inner: string, env: Record<string, string>): string[] {
  const script = findExecutable('script', { PATH: env.PATH ?? '/usr/local/bin:/usr/bin:/bin' }, '/');
  if ('path' in script) return [script.path, '-qfec', inner, '/dev/null'];
  const py = findExecutable('python3', { PATH: env.PATH ?? '/usr/local/bin:/usr/bin:/bin' }, '/');
  if ('path' in py) return [py.path, '-c', pythonPty, '/bin/sh', '-c', inner];
  throw new SkiffError('SKIFF_ERR_UNAVAILABLE', 'exec with a terminal needs script (util-linux / bsdutils) or python3 on the node; it has neither');
}

/** The terminal device of the process tree rooted at `pid` (/dev/pts/N on some descendant's stdin). */
function ptsOf(pid: number): string | undefined {
  for (const s of treeOf(readAllStats(), [pid])) {
    try {
      const target = fs.readlinkSync(`/proc/${s.pid}/fd/0`);
      if (target.startsWith('/dev/pts/')) return target;
    } catch {
      // gone, or not ours to read
    }
  }
  return undefined;
}

/** Kubernetes reports a signal death as 128 + the signal number. */
function exitCodeOf(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code;
  const n = signal ? (osConstants.signals as Record<string, number>)[signal] : undefined;
  return n !== undefined ? 128 + n : 1;
}

/** Runs a command in a process container. */
export async function processExec(target: ExecTarget, req: ExecRequest): Promise<ExecSession> {
  const { env, workingDir } = target.launch;
  const exe = findExecutable(req.command[0], env, workingDir);
  if ('error' in exe) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `cannot run ${JSON.stringify(req.command[0])}: ${exe.error}`);
  // As the container's user (runAsUser), never as the agent when the container does not run as it.
  const run = asUser(target.launch.user, [exe.path, ...req.command.slice(1)]);
  const argv = run.argv;
  const size = req.tty ? `stty rows ${req.rows ?? 24} cols ${req.cols ?? 80} 2>/dev/null; ` : '';
  const command = req.tty ? ptyCommand(`${size}exec ${argv.map(shQuote).join(' ')}`, env) : argv;
  const procs = target.cgroup?.procsFiles().filter((f) => fs.existsSync(f)) ?? [];
  const child = spawn('/bin/sh', ['-c', enterThenExec, 'skiff-exec', ...procs, '--', ...command], {
    cwd: workingDir,
    env,
    detached: true,
    ...(run.spawnAs ?? {}),
    stdio: [req.stdin ? 'pipe' : 'ignore', 'pipe', req.tty ? 'ignore' : 'pipe'],
  });
  const streams = [child.stdout!, ...(child.stderr ? [child.stderr] : [])];
  child.stdout!.on('data', (b: Buffer) => req.onOutput('stdout', b));
  child.stderr?.on('data', (b: Buffer) => req.onOutput('stderr', b));
  child.stdin?.on('error', () => undefined); // the command stopped reading: what is left is dropped
  const exited = new Promise<{ exitCode: number; signal?: string }>((resolve) => {
    child.once('error', () => resolve({ exitCode: 126 }));
    child.once('exit', (code, signal) => {
      // Like a container's main process: when the command ends, whatever it left running in its group ends too.
      killGroup(child.pid, 'SIGKILL');
      const result = { exitCode: exitCodeOf(code, signal), ...(signal ? { signal } : {}) };
      for (const st of streams) st.resume(); // a paused reader would hold 'close' back
      const drain = setTimeout(() => (streams.forEach((st) => st.destroy()), resolve(result)), DRAIN_MS);
      child.once('close', () => {
        clearTimeout(drain);
        resolve(result);
      });
    });
  });
  return {
    exited,
    write: (data, done) => (child.stdin ? child.stdin.write(data, () => done?.()) : done?.()),
    endInput: () => child.stdin?.end(),
    kill: () => killGroup(child.pid, 'SIGKILL'),
    pause: () => streams.forEach((st) => st.pause()),
    resume: () => streams.forEach((st) => st.resume()),
    resize(rows: number, cols: number) {
      if (!req.tty || child.pid === undefined) return;
      const pts = ptsOf(child.pid);
      if (pts) spawnSync('stty', ['-F', pts, 'rows', String(rows), 'cols', String(cols)], { stdio: 'ignore', timeout: 2000 });
    },
  };
}

/** Real processes for e2e tests: the built `skiff` and `skiff-agent` executables. */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { existsSync, createWriteStream } from 'node:fs';
import { createServer } from 'node:net';
import { createSocket } from 'node:dgram';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

/** The repository root. */
export const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const skiffBin = join(root, 'bin', 'skiff.js');
export const agentBin = join(root, 'bin', 'skiff-agent.js');

/** Fails clearly when dist/ is missing (the README's test command builds first). */
export function requireBuild(): void {
  if (!existsSync(join(root, 'dist', 'master', 'main.js')) || !existsSync(join(root, 'dist', 'edge-agent', 'main.js')))
    throw new Error('dist/ is missing: run "npm run build" (npm test does it first)');
}

/** A free UDP port (tests never take fixed ports: 5353 is avahi's, 8080 a quickstart master's). */
export function freeUdpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4');
    s.once('error', reject);
    s.bind(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** A free TCP port on loopback. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** Starts a long-running process, its output appended to `logFile`. */
export function startProcess(args: string[], logFile: string, env: Record<string, string> = {}): ChildProcess {
  const out = createWriteStream(logFile, { flags: 'a' });
  const child = spawn(process.execPath, args, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.pipe(out);
  child.stderr!.pipe(out);
  return child;
}

/** Stops a process with SIGTERM (SIGKILL after `graceMs`) and waits for it. */
export { stopProc as stopProcess } from '../../bench/cluster-selfheal.js';

const execFileP = promisify(execFile);

/** Runs the `skiff` CLI to completion: exit code, stdout, stderr. */
export async function skiff(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await execFileP(process.execPath, [skiffBin, ...args], { cwd: root, env: { ...process.env, ...env }, timeout: 30_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

/**
 * `skiff exec` into a container: the engine's exec API (`docker exec`), with or without a TTY. Without one,
 * stdout and stderr come multiplexed and are split back (logs.ts' Demuxer); with one, the TTY's output is one
 * raw stream and the client's window size is passed on. The engine has no call to kill an exec, so a cancel or
 * deadline kills the exec's process from the host by the pid the engine reports.
 */
import type { Exec } from 'dockerode';
import type { Duplex } from 'node:stream';
import type { ExecRequest, ExecSession } from '../types.js';
import { engineMessage, resizeExec, type Engine } from './engine.js';
import { Demuxer } from './logs.js';

/** Kills a host process that may be gone already. */
function killPid(pid: number | undefined): void {
  if (!pid || pid <= 1) return;
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // gone
  }
}

/**
 * Sets a new exec's TTY size. Right after the start the engine may not have the session running yet and refuses
 * the resize; like the docker CLI, try again a few times, 10 ms apart.
 */
async function initialSize(e: Engine, execId: string, rows: number, cols: number): Promise<void> {
  for (let i = 0; i < 20; i++) {
    if (await resizeExec(e, execId, rows, cols).then(() => true, () => false)) return;
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** The runtime's words for an exec it could not start (runc, crun; Docker's "OCI runtime exec failed"). */
const RUNTIME_FAILED = /(?:runc|crun|OCI runtime)[^\n]*(?:exec failed|not found|no such file|permission denied)[^\n]*/i;

/**
 * Waits until the exec is known to run (the engine says Running) or has ended; once ended, the runtime's message
 * when it could not start the command (exit 126/127, no pid, the runtime's complaint as its output), else undefined.
 */
async function startFailure(exec: Exec, ended: Promise<void>, early: { b: Buffer }[]): Promise<string | undefined> {
  let over = false;
  void ended.then(() => (over = true));
  for (let i = 0; i < 25 && !over; i++) {
    const info = await exec.inspect().catch(() => undefined);
    if (info?.Running) return undefined;
    await Promise.race([ended, new Promise((r) => setTimeout(r, 20))]);
  }
  if (!over) return undefined; // neither running nor ended after 0.5 s: a slow start, treated as running
  const info = await exec.inspect().catch(() => undefined);
  const text = Buffer.concat(early.map((x) => x.b)).toString('utf8');
  const m = RUNTIME_FAILED.exec(text);
  return m && (info?.ExitCode === 126 || info?.ExitCode === 127) ? m[0].replace(/^Error: /, '').trim() : undefined;
}

/** Starts `req.command` in container `id`. Rejects when the engine refuses it (an unknown executable, a stopped container). */
export async function execIn(e: Engine, id: string, req: ExecRequest): Promise<ExecSession> {
  const exec = await e.docker.getContainer(id).exec({
    Cmd: req.command,
    AttachStdout: true,
    AttachStderr: true,
    AttachStdin: req.stdin,
    Tty: req.tty,
    ...(req.tty ? { Env: ['TERM=xterm'] } : {}),
  });
  // ConsoleSize (Docker API 1.42) and h/w (Podman) start the TTY at the client's size; the resize below covers older engines.
  const size = req.tty && req.rows && req.cols ? { ConsoleSize: [req.rows, req.cols], h: req.rows, w: req.cols } : {};
  const stream = (await exec.start({ hijack: true, stdin: req.stdin, Tty: req.tty, ...size })) as Duplex;
  if (req.tty && req.rows && req.cols) await initialSize(e, exec.id, req.rows, req.cols);
  // Output is held until the command is known to run: a command the runtime cannot start is a rejection (as for a
  // process driver's spawn error), not a session whose output is the runtime's complaint.
  const early: { s: 'stdout' | 'stderr'; b: Buffer }[] = [];
  let live = false;
  const emit = (s: 'stdout' | 'stderr', b: Buffer) => (live ? req.onOutput(s, b) : early.push({ s, b }));
  const demux = new Demuxer((s, p) => emit(s, Buffer.from(p)));
  stream.on('data', (b: Buffer) => (req.tty ? emit('stdout', b) : demux.push(b)));
  stream.on('error', () => undefined);
  const ended = new Promise<void>((resolve) => {
    stream.once('end', resolve);
    stream.once('close', resolve);
  });
  const failure = await startFailure(exec, ended, early);
  if (failure) throw new Error(failure);
  live = true;
  for (const { s, b } of early.splice(0)) req.onOutput(s, b);
  const exited = ended.then(async () => {
    try {
      const info = await exec.inspect();
      return { exitCode: typeof info.ExitCode === 'number' ? info.ExitCode : 137 };
    } catch (err) {
      req.onOutput('stderr', Buffer.from(`exec: ${engineMessage(err)}\n`));
      return { exitCode: 126 };
    }
  });
  const pid = async () => (await exec.inspect().catch(() => undefined))?.Pid;
  return {
    exited,
    write: (data, written) => {
      if (req.stdin) stream.write(data, () => written?.());
      else written?.();
    },
    pause: () => stream.pause(),
    resume: () => stream.resume(),
    endInput: () => {
      // Half-close: the command sees EOF on stdin; its output keeps flowing.
      if (req.stdin) stream.end();
    },
    resize: (rows, cols) => void resizeExec(e, exec.id, rows, cols).catch(() => undefined),
    kill: () => void pid().then(killPid),
  };
}

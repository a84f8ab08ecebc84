/**
 * The exit-recording wrapper every host-process attempt runs under (process and wasi drivers), and the
 * handle over its process group. docs/lifecycle.md tells why it exists: an adopting agent is not the
 * attempt's parent and cannot waitpid it, so the shell writes the exit status to a file.
 */
import fs from 'node:fs';
import { constants as osConstants } from 'node:os';
import type { ContainerCgroup } from '../cgroups/types.js';
import { groupMembers, killGroup, treeUsage } from '../procfs.js';
import type { ContainerHandle, ExitInfo } from './types.js';

/**
 * `sh -c SCRIPT skiff-pod EXITFILE [CGROUP_PROCS...] -- /abs/cmd args...`. The shell first writes its own
 * pid into each of the container's `cgroup.procs` (so the command and all it forks start under the limits:
 * nothing runs outside them for an instant), then runs the command. TERM, INT and HUP are trapped (not
 * ignored, so the command keeps the default action): a stop's SIGTERM to the group ends the command and the
 * shell lives on to write its status. `kill -9 0` then ends whatever the command left in its group, as a
 * container's processes end with its main process. dash exports PWD into the environment: unset, unless the
 * pod asked for it, so the pod sees exactly its env. A cgroup the shell cannot enter ends the attempt
 * before the command runs (status 125, the message in the log): limits are never silently skipped.
 */
export function wrapperScript(keepPwd: boolean): string {
  const enter = 'while [ "$1" != -- ]; do echo $$ > "$1" || { echo "skiff-agent: cannot enter cgroup $1" >&2; echo 125 > "$f"; exit 125; }; shift; done; shift';
  return `${keepPwd ? '' : 'unset PWD; '}f=$1; shift; ${enter}; trap : TERM INT HUP; "$@"; echo $? > "$f"; kill -9 0`;
}

const signalNumber = (s: NodeJS.Signals | null): number | undefined => (s ? (osConstants.signals as Record<string, number>)[s] : undefined);

/** The wrapper's own end when it wrote no status (it was killed): Kubernetes' 128 + signal. */
export function wrapperExit(code: number | null, signal: NodeJS.Signals | null): ExitInfo {
  const signum = signalNumber(signal);
  const exitCode = code ?? (signum !== undefined ? 128 + signum : 137);
  return { exitCode, ...(signum !== undefined ? { signal: signum } : {}), reason: exitCode === 0 ? 'Completed' : 'Error', message: signal ? `killed by ${signal}` : undefined, finishedAt: new Date() };
}

/** An adopted attempt that ended without a status: the agent's own SIGKILL, or someone else's. */
export function unknownExit(killedByAgent: boolean): ExitInfo {
  const message = killedByAgent ? 'killed by SIGKILL' : 'the process group ended without an exit status (killed by SIGKILL?)';
  return { exitCode: 137, signal: 9, reason: 'Error', message, finishedAt: new Date() };
}

/**
 * How the attempt really ended: OOMKilled when its cgroup counted an OOM kill (the kernel killed a process of
 * it at the memory limit: runtimes report OOMKilled then, whichever process it hit) or when the command
 * itself said so in `oomFile` (the wasi runner, whose module hit its WebAssembly memory limit). Then whatever
 * is left in the cgroup is ended, as a container's processes end with it.
 */
export function classifyExit(exit: ExitInfo, cgroup: ContainerCgroup | undefined, oomFile: string): ExitInfo {
  let oom = false;
  try {
    oom = fs.existsSync(oomFile) || (cgroup?.oomKills() ?? 0) > 0;
    cgroup?.killAll();
  } catch {
    // a cgroup that vanished: no verdict from it
  }
  if (!oom || exit.exitCode === 0) return exit;
  return { ...exit, reason: 'OOMKilled', message: exit.message && !exit.message.startsWith('killed by') ? exit.message : 'the container used more memory than its limit (resources.limits.memory)' };
}

/** How long after its start an attempt may still be starting its command (a stop then looks again: termLateStarters). */
const youngMs = 2_000;

/**
 * A stop's SIGTERM can come as the wrapper starts its command: after the shell trapped TERM and before the command's
 * exec — forked after the signal, or forked just before it while the child still ran the shell's inherited trap. The
 * command then never sees the signal and runs until the grace period's SIGKILL (a pod deleted the moment it was
 * bound ran for 30 s; measured: 23 of 300 wrapper starts signalled 0–4 ms in). So a stop of a young attempt looks
 * at the group again a few times, and when the wrapper has a child that was not there at the signal, or that exec'd
 * since (its comm changed), the group gets SIGTERM once more. Only the wrapper's own child counts (the command), not
 * what the command forks: a command that got the signal and runs a child to shut down is not signalled twice.
 */
async function termLateStarters(pgid: number, before: Map<number, { comm: string }>, ended: () => boolean): Promise<void> {
  for (const ms of [20, 80, 300, 600]) {
    await new Promise((r) => setTimeout(r, ms).unref());
    if (ended()) return;
    for (const [p, m] of groupMembers(pgid)) {
      if (m.ppid !== pgid || before.get(p)?.comm === m.comm) continue;
      killGroup(pgid, 'SIGTERM');
      return;
    }
  }
}

/** A handle over a running process group: `stop` is SIGTERM to the group, SIGKILL after the grace period. */
export function groupHandle(pid: number, startedAt: Date, exited: Promise<ExitInfo>, release: () => void, cgroup?: ContainerCgroup, onKill: () => void = () => {}): ContainerHandle {
  let done = false;
  void exited.then(() => (done = true));
  return {
    pid,
    startedAt,
    exited,
    release,
    stats: () => (done ? undefined : (cgroup?.usage() ?? treeUsage(pid))),
    async stop(graceMs: number) {
      if (done) return exited;
      const before = Date.now() - startedAt.getTime() < youngMs ? groupMembers(pid) : undefined;
      killGroup(pid, 'SIGTERM');
      if (before) void termLateStarters(pid, before, () => done);
      const timer = setTimeout(() => {
        onKill();
        killGroup(pid, 'SIGKILL');
        cgroup?.killAll(); // what left the group (setsid) but not the cgroup goes too
      }, graceMs);
      const info = await exited;
      clearTimeout(timer);
      return info;
    },
  };
}

/** An attempt that never ran. */
export function ended(startedAt: Date, info: ExitInfo): ContainerHandle {
  const exited = Promise.resolve(info);
  return { startedAt, exited, stop: () => exited, release: () => {}, stats: () => undefined };
}

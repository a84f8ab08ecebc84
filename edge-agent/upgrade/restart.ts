/**
 * How an agent restarts itself into a new bundle (after an upgrade, or to leave a failed trial):
 *
 * - **Supervised** (`SKIFF_AGENT_RESTART=exit`, which the systemd unit sets): exit with EXIT_RESTART and let the
 *   supervisor start it again (`Restart=always`). This is also what to use under emulation (qemu-user cannot
 *   exec an ARM binary from inside the emulated process) and under any other process supervisor.
 * - **Unsupervised** (a terminal, `nohup`, a test): spawn a detached `node BUNDLE ARGS...` and exit 0. The data dir
 *   is released before (the agent has stopped), so the new process claims it at once; its pods were never touched.
 *   If the spawn fails, exit EXIT_RESTART anyway: whatever started this process may start it again.
 */
import { spawn } from 'node:child_process';

/** The exit code that asks a supervisor to start the agent again (EX_TEMPFAIL of sysexits.h). */
export const EXIT_RESTART = 75;

/** True when a supervisor restarts the agent when it exits (the systemd unit says so). */
export function supervised(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.SKIFF_AGENT_RESTART === 'exit';
}

/**
 * Ends this process so that `bundle` runs again with the same arguments: see the file comment. Never returns.
 * Call it only once the agent has stopped (its data dir released).
 */
export async function restartProcess(bundle: string, argv: string[], log: (line: string) => void): Promise<never> {
  if (supervised()) {
    log(`exiting with code ${EXIT_RESTART}: the supervisor starts ${bundle} again`);
    process.exit(EXIT_RESTART);
  }
  const child = spawn(process.execPath, [...process.execArgv, bundle, ...argv], { detached: true, stdio: 'inherit', env: process.env });
  const ok = await new Promise<boolean>((resolve) => {
    child.once('spawn', () => resolve(true));
    child.once('error', (err) => {
      log(`cannot start ${process.execPath} ${bundle}: ${err.message}; exiting with code ${EXIT_RESTART} for a supervisor`);
      resolve(false);
    });
  });
  if (!ok) process.exit(EXIT_RESTART);
  child.unref();
  log(`started ${bundle} again (pid ${child.pid}); this process exits`);
  process.exit(0);
}

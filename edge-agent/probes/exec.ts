/**
 * The exec handler: runs the probe's command with the container's environment and working directory (for a
 * process pod, "inside the container" is the host with the container's env). Exit 0 is success, anything
 * else failure, as in Kubernetes; output is kept up to 10 KiB for the failure message (kubelet's limit).
 */
import { spawn } from 'node:child_process';
import type { ProbeCheck, ProbeOutcome, ProbeTarget } from './types.js';
import { killGroup } from '../procfs.js';

const maxOutput = 10 * 1024;

/** A check that runs `command`. */
export function execCheck(command: string[], target: ProbeTarget): ProbeCheck {
  return (signal) =>
    new Promise<ProbeOutcome>((resolve) => {
      if (command.length === 0) return resolve({ ok: false, message: 'exec probe has an empty command' });
      let out = '';
      const child = spawn(command[0], command.slice(1), { env: target.env, cwd: target.workingDir, stdio: ['ignore', 'pipe', 'pipe'], detached: true, ...(target.user ?? {}) });
      const keep = (b: Buffer) => {
        if (out.length < maxOutput) out += b.toString('utf8').slice(0, maxOutput - out.length);
      };
      child.stdout.on('data', keep);
      child.stderr.on('data', keep);
      // A timed-out command is killed with everything it forked (it runs in its own process group).
      const kill = () => killGroup(child.pid, 'SIGKILL');
      signal.addEventListener('abort', kill, { once: true });
      child.once('error', (err) => {
        signal.removeEventListener('abort', kill);
        resolve({ ok: false, message: `exec probe: cannot run ${JSON.stringify(command[0])}: ${err.message}` });
      });
      child.once('close', (code, sig) => {
        signal.removeEventListener('abort', kill);
        if (code === 0) return resolve({ ok: true });
        const how = code === null ? `was killed by ${sig}` : `exited with ${code}`;
        resolve({ ok: false, message: `command ${JSON.stringify(command.join(' '))} ${how}${out.trim() ? `: ${out.trim()}` : ''}` });
      });
    });
}

/**
 * How a process attempt runs as its container's user (securityContext.runAsUser, pods/user.ts). The wrapper
 * stays the agent's (root's): it enters the container's cgroup — which only root may do under cgroup v2's
 * delegation rules — and records the exit status in the agent's own 0600 file; the command itself is started
 * through util-linux's `setpriv` with the user's ids and no supplementary groups (what runc does at the last
 * step of a container's start). Without setpriv (not a Debian-like board), the wrapper itself is spawned as
 * the user, its exit file handed to that user beforehand; it then cannot enter a cgroup (the attempt fails with
 * its "cannot enter cgroup" StartError rather than run unlimited).
 */
import fs from 'node:fs';
import { findExecutable } from './executable.js';

/** An OS user and group. */
export interface UserIds {
  uid: number;
  gid: number;
}

const sbinPath = { PATH: '/usr/bin:/bin:/usr/sbin:/sbin' };
let setpriv: string | undefined | null = null;

/** util-linux's setpriv, looked up once. */
function setprivPath(): string | undefined {
  if (setpriv === null) {
    const found = findExecutable('setpriv', sbinPath, '/');
    setpriv = 'path' in found ? found.path : undefined;
  }
  return setpriv;
}

/** The command line that runs `argv` as `user`, and the user to spawn the wrapper as when setpriv is missing. */
export function asUser(user: UserIds | undefined, argv: string[]): { argv: string[]; spawnAs?: UserIds } {
  if (!user) return { argv };
  const sp = setprivPath();
  if (sp) return { argv: [sp, `--reuid=${user.uid}`, `--regid=${user.gid}`, '--clear-groups', '--', ...argv] };
  return { argv, spawnAs: user };
}

/** Hands a file the wrapper writes (the exit status) to the user it runs as, before it starts. */
export function handOver(file: string, user: UserIds | undefined): void {
  if (!user) return;
  fs.writeFileSync(file, '', { mode: 0o600 });
  fs.chownSync(file, user.uid, user.gid);
}

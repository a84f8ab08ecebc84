/**
 * Which OS user a process container runs as (securityContext.runAsUser / runAsGroup, the container's over the
 * pod's), and whether this agent can start it so. A process pod without runAsUser runs as the agent's own user,
 * which Pod Security admits only at the privileged level (docs/security.md); one with runAsUser runs as that user:
 * it cannot read the agent's data dir (its node credential, other pods' Secrets). Switching users needs the agent
 * to run as root; without it such a pod waits with CreateContainerConfigError saying so, as does a pod that asks
 * for runAsNonRoot and would run as root (the kubelet's "container has runAsNonRoot and image will run as root").
 */
import type { Container, Pod } from '../../protocol/types.js';

/** An OS user and group. */
export interface RunAs {
  uid: number;
  gid: number;
}

/** The agent's own user (undefined on an OS without POSIX ids). */
export function agentUser(): RunAs | undefined {
  return process.getuid && process.getgid ? { uid: process.getuid(), gid: process.getgid() } : undefined;
}

/** The user a container asks to run as: runAsUser, with runAsGroup (default: the same number as the user). */
export function requestedUser(pod: Pod, c: Container): RunAs | undefined {
  const uid = c.securityContext?.runAsUser ?? pod.spec.securityContext?.runAsUser;
  if (uid === undefined) return undefined;
  return { uid, gid: c.securityContext?.runAsGroup ?? pod.spec.securityContext?.runAsGroup ?? uid };
}

/**
 * The user to start a container as (undefined: the agent's own), or why it cannot be started on this agent.
 * `agent` is the agent's user.
 */
export function runAsFor(pod: Pod, c: Container, agent: RunAs | undefined): { user?: RunAs; refusal?: string } {
  const want = requestedUser(pod, c);
  const nonRoot = c.securityContext?.runAsNonRoot ?? pod.spec.securityContext?.runAsNonRoot;
  const effectiveUid = want?.uid ?? agent?.uid;
  if (nonRoot === true && effectiveUid === 0) return { refusal: `container "${c.name}" has runAsNonRoot and would run as root (set securityContext.runAsUser)` };
  if (!want) return {};
  if (!agent) return { refusal: `container "${c.name}": runAsUser is not supported on ${process.platform}` };
  if (want.uid === agent.uid && want.gid === agent.gid) return {};
  if (agent.uid !== 0) return { refusal: `container "${c.name}": runAsUser ${want.uid} needs the agent to run as root to switch users (it runs as uid ${agent.uid})` };
  return { user: want };
}

/** Who owns a pod's volumes: the pod-level user, or the one user all its containers share; else the agent. */
export function volumeOwner(users: (RunAs | undefined)[]): RunAs | undefined {
  const first = users[0];
  if (!first || users.some((u) => !u || u.uid !== first.uid || u.gid !== first.gid)) return undefined;
  return first;
}

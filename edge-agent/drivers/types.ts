/**
 * The driver contract: how the pod lifecycle starts, adopts, waits for and stops one container, whatever runs
 * it (a host process today; a container engine or a WASI runtime next).
 *
 * Containers outlive the agent, as kubelet's do (docs/lifecycle.md): an agent that stops — SIGTERM, an
 * upgrade, `kill -9` — leaves them running, and the next agent run ADOPTS them instead of starting them again.
 * So every driver must
 *   - `start` an attempt detached from the agent (its own process group or container, output to a log file,
 *     never a pipe to the agent), recording what names it (pid + start time; a container id or labels) and
 *     where its exit status will be found once it ends;
 *   - `adopt` what a previous run recorded for a container: still running → a handle on the same process
 *     (same pid, `exited` resolves when it ends, `stop` works), ended meanwhile → its exit status;
 *   - `reap` the attempts of pods that are no longer wanted (deleted while no agent ran, or `stop --pods`);
 *   - stop an attempt with a grace period (SIGTERM, SIGKILL after `graceMs`) and wait for its end;
 *   - put the attempt under the container's limits (`spec.cgroup` / `spec.limits`), and say `OOMKilled` when
 *     the memory limit ended it;
 *   - report a running attempt's `stats` (cpu, memory);
 *   - `exec` a command beside (or inside) a running container, with or without a terminal, or refuse clearly.
 * Logs: an attempt's stdout and stderr go to `spec.logFile` (appended, in order), where `skiff logs`, `--previous`
 * and log rotation find them, whichever driver wrote them — also while no agent runs.
 * test/drivers/contract.ts is the suite every driver passes.
 */
import type { Readable, Writable } from 'node:stream';
import type { DesiredMessage } from '../../protocol/messages.js';
import type { CgroupUsage, ContainerCgroup, ContainerLimits } from '../cgroups/types.js';
import type { Logger } from '../log.js';

/** Everything a driver needs to start one container attempt; built by the pod's prepare step. */
export interface LaunchSpec {
  podUid: string;
  namespace: string;
  podName: string;
  containerName: string;
  /** command + args, resolved ($(VAR) expanded). */
  argv: string[];
  /** The complete environment of the process. */
  env: Record<string, string>;
  workingDir?: string;
  /** stdout and stderr are appended here. */
  logFile: string;
  /** DATA/pods/<uid>/: the driver keeps its records (pid files, exit files) here. */
  stateDir: string;
  /** The attempt's restartCount: recorded with it, so an adopting run reports the same count. */
  restartCount: number;
  /** The pod's terminationGracePeriodSeconds in ms: recorded, so `reap` gives a leftover its own grace. */
  graceMs: number;
  /** The OS user to run as (securityContext.runAsUser); absent: the agent's own. */
  user?: { uid: number; gid: number };
  /** The container's `image` (what the container and wasi drivers run). */
  image?: string;
  /** What the driver's `pull` made of `image` on this node (a module file, an image id). */
  imageRef?: string;
  /** The container's limits in kernel units (resources.limits, requests.cpu); empty: unlimited. */
  limits?: ContainerLimits;
  /** The attempt's cgroup when the node enforces limits: the driver prepares it and starts the attempt inside. */
  cgroup?: ContainerCgroup;
  /** The container's volume mounts, resolved to host directories (the wasi driver preopens them). */
  mounts?: { hostPath: string; mountPath: string; readOnly: boolean }[];
}

/** Names one container across agent runs. */
export interface ContainerRef {
  podUid: string;
  containerName: string;
  /** DATA/pods/<uid>/, as in LaunchSpec. */
  stateDir: string;
  /** The container's cgroup, as in LaunchSpec: an adopted attempt's OOM kill is read from it. */
  cgroup?: ContainerCgroup;
}

/** How one attempt ended, in ContainerStateTerminated's terms. */
export interface ExitInfo {
  exitCode: number;
  signal?: number;
  /** Completed (exit 0), Error, StartError (could not start), OOMKilled (its memory limit ended it). */
  reason: 'Completed' | 'Error' | 'StartError' | 'OOMKilled';
  message?: string;
  finishedAt: Date;
}

/** A started (or adopted) container attempt. */
export interface ContainerHandle {
  readonly pid?: number;
  readonly startedAt: Date;
  /** Resolves once the attempt has ended (never rejects): the "wait" of the contract. */
  readonly exited: Promise<ExitInfo>;
  /** SIGTERM, then SIGKILL after graceMs; resolves when it has ended. */
  stop(graceMs: number): Promise<ExitInfo>;
  /** Stops watching the attempt and leaves it running (the agent stops; its next run adopts it). */
  release(): void;
  /** What the running attempt uses now (its cgroup's counters, else its process tree's); undefined once it ended. */
  stats(): ContainerStats | undefined;
}

/** A running container's usage: cumulative cpu time and the memory working set. */
export type ContainerStats = CgroupUsage;

/** How an exec runs: the command, a terminal or not, stdin or not; output goes to `onOutput` as it comes. */
export interface ExecRequest {
  command: string[];
  /** A terminal (its output is one stream: stdout). */
  tty: boolean;
  /** Keep stdin open for `write`; otherwise the command reads /dev/null. */
  stdin: boolean;
  /** The terminal's size. */
  rows?: number;
  cols?: number;
  onOutput(stream: 'stdout' | 'stderr', data: Buffer): void;
}

/** Where an exec runs: the container, its running attempt and how that attempt was launched (its env, workingDir, cgroup). */
export interface ExecTarget extends ContainerRef {
  handle: ContainerHandle;
  launch: LaunchSpec;
}

/** A running exec (`skiff exec`). */
export interface ExecSession {
  /** Its exit code once it ended and its output was delivered (128 + signal for a signal death, as Kubernetes reports); never rejects. */
  readonly exited: Promise<{ exitCode: number; signal?: string }>;
  /** Input for an interactive session (stdin: true); `done` once the command's side took it (flow control). */
  write(data: Buffer, done?: () => void): void;
  /** Ends stdin (the client closed it). */
  endInput(): void;
  /** A new terminal size (the command gets SIGWINCH); ignored without a terminal. */
  resize(rows: number, cols: number): void;
  /** Stops and starts reading the command's output while the client is behind (bounded buffers). */
  pause(): void;
  resume(): void;
  /** Ends the command and what it started (a cancel or a deadline). */
  kill(): void;
}

/** What a previous agent run left of one container. */
export type Adoption =
  /** Nothing recorded: start a first attempt. */
  | { kind: 'none' }
  /** Its attempt still runs: follow it, same pid, same restartCount. */
  | { kind: 'running'; restartCount: number; handle: ContainerHandle }
  /** Its attempt ended while no agent watched: the restart policy decides, as for any exit. */
  | { kind: 'exited'; restartCount: number; startedAt: Date; exit: ExitInfo };

/** What a pull may read: the pod's namespace and the desired set's ConfigMaps and Secrets (configmap:// modules, pull secrets). */
export interface PullContext {
  namespace: string;
  desired: Pick<DesiredMessage, 'configMaps' | 'secrets'>;
  log: Logger;
}

/** A pull that failed; `reason` becomes the container's waiting reason (ErrImagePull, CreateContainerConfigError, ...), retried with back-off. */
export class PullError extends Error {
  constructor(
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

/** One way of running containers (process, container, wasi). */
export interface Driver {
  /**
   * Makes `image` available on this node before a container's first attempt (fetch, check, cache) and returns
   * the local reference `start` gets as `spec.imageRef`; throws a PullError. Drivers without images have none.
   */
  pull?(image: string, ctx: PullContext): Promise<string>;
  /** Starts one attempt; a start failure is an attempt that ended with reason StartError, not a throw. */
  start(spec: LaunchSpec): Promise<ContainerHandle>;
  /** Finds what a previous agent run left of one container (never throws: unreadable records are `none`). */
  adopt(ref: ContainerRef): Promise<Adoption>;
  /**
   * Stops every recorded attempt under `podsDir` (DATA/pods) whose pod uid is not in `keep`, each with the
   * grace it was started with, and waits for them; returns how many it stopped. Leaves the records in place.
   */
  reap(podsDir: string, keep: ReadonlySet<string>, log: Logger): Promise<number>;
  /** Runs a command in a running container (optional: a WASI module has nothing to run one in); rejects with a SkiffError saying why not. */
  exec?(target: ExecTarget, req: ExecRequest): Promise<ExecSession>;
}

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
 *   - stop an attempt with a grace period (SIGTERM, SIGKILL after `graceMs`) and wait for its end.
 */
import type { Logger } from '../log.js';
import type { OciLaunch, SandboxSpec } from './container/types.js';

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
  /** The container runtime's part (container pods): image, mounts, limits, security, the pod's sandbox. */
  oci?: OciLaunch;
}

/** Names one container across agent runs. */
export interface ContainerRef {
  podUid: string;
  containerName: string;
  /** DATA/pods/<uid>/, as in LaunchSpec. */
  stateDir: string;
  /** The container's log directory (LaunchSpec.logFile's): an adopted attempt's output goes on into `<restartCount>.log` there. */
  logDir?: string;
}

/** How one attempt ended, in ContainerStateTerminated's terms. */
export interface ExitInfo {
  exitCode: number;
  signal?: number;
  /** Completed (exit 0), Error, StartError (could not start), OOMKilled (killed at its memory limit). */
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
}

/** What a previous agent run left of one container. */
export type Adoption =
  /** Nothing recorded: start a first attempt. */
  | { kind: 'none' }
  /** Its attempt still runs: follow it, same pid, same restartCount. */
  | { kind: 'running'; restartCount: number; handle: ContainerHandle }
  /** Its attempt ended while no agent watched: the restart policy decides, as for any exit. */
  | { kind: 'exited'; restartCount: number; startedAt: Date; exit: ExitInfo };

/** Records one pod event (the agent batches them to the master): kubelet's Pulling, Pulled, Failed, BackOff, ... */
export type EventFn = (type: 'Normal' | 'Warning', reason: string, message: string) => void;

/**
 * What a driver's `prepare` found: ready to start, or a reason the container must wait (ErrImagePull) and the
 * reason it shows while it waits to try again (ImagePullBackOff), as the kubelet shows them.
 */
export type PrepareOutcome = { ok: true } | { ok: false; reason: string; message: string; backOff: { reason: string; message: string } };

/** A running command beside a container (`skiff exec`): output and exit as they come. */
export interface ExecSession {
  /** Resolves with the exit code once the command ends (never rejects: a failure to run is an exit code). */
  readonly exited: Promise<{ exitCode: number }>;
  /** Input for an interactive session (stdin: true; `written` once it went out); ignored otherwise. */
  write(data: Buffer, written?: () => void): void;
  /** Stops reading the command's output (flow control: the client is behind); optional. */
  pause?(): void;
  resume?(): void;
  /** Ends stdin (Ctrl-D on the client's side of a pipe). */
  endInput(): void;
  /** A TTY's new size. */
  resize(rows: number, cols: number): void;
  /** Kills the command (a cancel or a deadline). */
  kill(): void;
}

/** How an exec runs: the command, a TTY or not, stdin or not; output goes to `onOutput`. */
export interface ExecRequest {
  command: string[];
  tty: boolean;
  stdin: boolean;
  /** Initial TTY size. */
  rows?: number;
  cols?: number;
  onOutput(stream: 'stdout' | 'stderr', data: Buffer): void;
}

/** One way of running containers (process, container, wasi). */
export interface Driver {
  /**
   * Before each attempt (optional): what must be in place first — the container driver pulls the image by its
   * pull policy. A failure keeps the container waiting with `reason` and is retried with back-off.
   */
  prepare?(spec: LaunchSpec, event: EventFn, progress: (text: string) => void): Promise<PrepareOutcome>;
  /**
   * The pod's sandbox (optional: the container driver's infra container holding its network namespace), made
   * when the pod is prepared so its address is known before any container starts (status.podIP, env).
   */
  podSandbox?(pod: { podUid: string; podName: string; namespace: string; graceMs: number }, spec: SandboxSpec): Promise<{ ip?: string }>;
  /** After a pod stopped for good (optional): removes what the driver keeps for it (containers, the sandbox). */
  removePod?(podUid: string): Promise<void>;
  /** Runs a command beside a running container (optional: drivers whose containers are not host processes). */
  exec?(ref: ContainerRef, req: ExecRequest): Promise<ExecSession>;
  /** Starts one attempt; a start failure is an attempt that ended with reason StartError, not a throw. */
  start(spec: LaunchSpec): Promise<ContainerHandle>;
  /** Finds what a previous agent run left of one container (never throws: unreadable records are `none`). */
  adopt(ref: ContainerRef): Promise<Adoption>;
  /**
   * Stops every recorded attempt under `podsDir` (DATA/pods) whose pod uid is not in `keep`, each with the
   * grace it was started with, and waits for them; returns how many it stopped. Leaves the records in place.
   */
  reap(podsDir: string, keep: ReadonlySet<string>, log: Logger): Promise<number>;
}

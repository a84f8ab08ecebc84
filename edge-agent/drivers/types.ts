/** The driver contract: how the pod lifecycle starts, watches and stops one container, whatever runs it. */
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
  /** DATA/pods/<uid>/: the driver keeps its bookkeeping (pid files) here. */
  stateDir: string;
}

/** How one attempt ended, in ContainerStateTerminated's terms. */
export interface ExitInfo {
  exitCode: number;
  signal?: number;
  /** Completed (exit 0), Error, StartError (could not start). */
  reason: 'Completed' | 'Error' | 'StartError';
  message?: string;
  finishedAt: Date;
}

/** A started container attempt. */
export interface ContainerHandle {
  readonly pid?: number;
  readonly startedAt: Date;
  /** Resolves once the attempt has ended (never rejects). */
  readonly exited: Promise<ExitInfo>;
  /** SIGTERM, then SIGKILL after graceMs; resolves when it has ended. */
  stop(graceMs: number): Promise<ExitInfo>;
}

/** One way of running containers (process, container, wasi). */
export interface Driver {
  /** Starts one attempt; a start failure is an attempt that ended with reason StartError, not a throw. */
  start(spec: LaunchSpec): Promise<ContainerHandle>;
  /** Stops what a previous agent run left behind under `podsDir` (DATA/pods); returns how many it stopped. */
  reapLeftovers(podsDir: string, graceMs: number, log: Logger): Promise<number>;
}

/**
 * One container of a pod: starts attempts through its driver (or follows the one a previous agent run left,
 * see `start`) and restarts them by the pod's restartPolicy with CrashLoopBackOff between restarts. It knows
 * nothing of MQTT: it calls `onChange` and the pod reports.
 */
import type { AgentEventReason } from '../../protocol/event.js';
import type { ContainerState } from '../../protocol/types.js';
import type { Adoption, ContainerHandle, ContainerStats, Driver, ExecTarget, ExitInfo, LaunchSpec } from '../drivers/types.js';
import { CrashBackoff, type BackoffConfig } from './backoff.js';

/** A restart that happened, for tests and logs: how long from the exit to the new process. */
export interface RestartEvent {
  container: string;
  restartCount: number;
  /** ms from the observed exit to the new attempt's process existing. */
  latencyMs: number;
  /** The back-off waited (0 for an immediate restart). */
  delayMs: number;
}

/** What a container runner needs from its pod. */
export interface ContainerDeps {
  driver: Driver;
  restartPolicy: 'Always' | 'OnFailure' | 'Never';
  backoff: BackoffConfig;
  /** Builds the launch of attempt `restartCount` (its log file depends on it). */
  launch(restartCount: number): LaunchSpec;
  onChange(): void;
  onRestart(e: RestartEvent): void;
  /** Something kubelet would record as an event happened (Started, BackOff, Killing, Failed). */
  onEvent?(reason: AgentEventReason, message: string): void;
  /** `namespace/name`, for messages. */
  podRef: string;
  /** restartCount of the first attempt (carried over from the previous agent run); default 0. */
  firstRestartCount?: number;
  /** The waiting reason before the first attempt: ContainerCreating, or PodInitializing while init containers run. */
  waitingReason?: string;
}

/** Kubernetes' rule: Always restarts every exit, OnFailure only a non-zero one, Never none. */
export function shouldRestart(policy: ContainerDeps['restartPolicy'], exitCode: number): boolean {
  return policy === 'Always' || (policy === 'OnFailure' && exitCode !== 0);
}

/** Runs one container's attempts. */
export class ContainerRunner {
  restartCount = 0;
  state: ContainerState = { waiting: { reason: 'ContainerCreating' } };
  lastState?: ContainerState;
  /** True once it will never run again (ended and the policy says no restart). */
  finished = false;
  private handle?: ContainerHandle;
  private timer?: NodeJS.Timeout;
  /** No more attempts: stopped, or detached. */
  private halted = false;
  /** Detached: the running attempt is left alone (the agent stops; its next run adopts it). */
  private detached = false;
  private graceMs = 0;
  private current: Promise<void> = Promise.resolve();
  private readonly backoff: CrashBackoff;
  /** Why the agent killed the running attempt (a failed probe), for its terminated state. */
  private killMessage?: string;
  private settle!: (exit: ExitInfo | undefined) => void;
  /** Resolves with the last exit once the container will never run again, or undefined when it was stopped or detached first. */
  readonly done = new Promise<ExitInfo | undefined>((resolve) => (this.settle = resolve));

  constructor(
    readonly name: string,
    private readonly deps: ContainerDeps,
  ) {
    this.backoff = new CrashBackoff(deps.backoff);
    this.restartCount = deps.firstRestartCount ?? 0;
    this.state = { waiting: { reason: deps.waitingReason ?? 'ContainerCreating' } };
  }

  /** Where an exec runs: the running attempt and its launch; undefined when none is running. */
  execTarget(): ExecTarget | undefined {
    if (!this.state.running || !this.handle) return undefined;
    const launch = this.currentLaunch();
    return { podUid: launch.podUid, containerName: launch.containerName, stateDir: launch.stateDir, ...(launch.cgroup ? { cgroup: launch.cgroup } : {}), handle: this.handle, launch };
  }

  /** The running attempt's usage (cgroup counters, else its process tree); undefined when none runs. */
  stats(): ContainerStats | undefined {
    return this.state.running ? this.handle?.stats() : undefined;
  }

  /** The pid of the running attempt, if one is running. */
  get pid(): number | undefined {
    return this.state.running ? this.handle?.pid : undefined;
  }

  /** The launch of the current attempt (argv, env, workingDir): `exec` runs beside it with the same env and directory. */
  currentLaunch(): LaunchSpec {
    return this.deps.launch(this.restartCount);
  }

  /** Resolves when the running attempt ends (at once when none is running). */
  attemptEnded(): Promise<ExitInfo | undefined> {
    return this.state.running && this.handle ? this.handle.exited : Promise.resolve(undefined);
  }

  /**
   * Starts: follows the attempt a previous agent run left running (same process, same restartCount), applies
   * the restart policy to one that ended while no agent watched, or starts the first attempt.
   */
  start(adopted: Adoption = { kind: 'none' }): void {
    if (adopted.kind === 'none') this.current = this.attempt(undefined, 0);
    else {
      this.restartCount = adopted.restartCount;
      this.current = adopted.kind === 'running' ? this.follow(adopted.handle, undefined, 0) : this.afterExit(adopted.exit, adopted.startedAt);
    }
  }

  private async attempt(exitedAt: number | undefined, delayMs: number): Promise<void> {
    if (this.halted) return;
    const handle = await this.deps.driver.start(this.deps.launch(this.restartCount));
    return this.follow(handle, exitedAt, delayMs);
  }

  /** Watches one attempt until it ends, then lets the restart policy decide. */
  private async follow(handle: ContainerHandle, exitedAt: number | undefined, delayMs: number): Promise<void> {
    this.handle = handle;
    if (this.detached) return handle.release();
    if (this.halted) {
      await handle.stop(this.graceMs);
      return;
    }
    if (handle.pid !== undefined) {
      this.deps.onEvent?.('Started', `Started container ${this.name}`);
      this.state = { running: { startedAt: handle.startedAt.toISOString() } };
      if (exitedAt !== undefined) this.deps.onRestart({ container: this.name, restartCount: this.restartCount, latencyMs: Date.now() - exitedAt - delayMs, delayMs });
      this.deps.onChange();
    }
    const exit = await handle.exited;
    if (this.detached) return;
    return this.afterExit(exit, handle.startedAt);
  }

  /** An attempt ended: terminated for good, or a restart (at once, or after the back-off). */
  private async afterExit(exit: ExitInfo, startedAt: Date): Promise<void> {
    if (exit.reason === 'StartError') this.deps.onEvent?.('Failed', `Error: ${exit.message ?? 'the container could not start'}`);
    const message = this.killMessage ?? exit.message;
    this.killMessage = undefined;
    const terminated: ContainerState = {
      terminated: { exitCode: exit.exitCode, ...(exit.signal ? { signal: exit.signal } : {}), reason: exit.reason, ...(message ? { message } : {}), startedAt: startedAt.toISOString(), finishedAt: exit.finishedAt.toISOString() },
    };
    if (this.halted || !shouldRestart(this.deps.restartPolicy, exit.exitCode)) {
      this.state = terminated;
      this.finished = !this.halted;
      this.deps.onChange();
      this.settle(this.halted ? undefined : exit);
      return;
    }
    this.lastState = terminated;
    const delay = this.backoff.next(exit.finishedAt.getTime() - startedAt.getTime());
    const endedAt = Date.now();
    if (delay === 0) {
      this.restartCount++;
      return this.attempt(endedAt, 0);
    }
    this.state = { waiting: { reason: 'CrashLoopBackOff', message: `back-off ${delay / 1000}s restarting failed container=${this.name} pod=${this.deps.podRef}` } };
    this.deps.onEvent?.('BackOff', `Back-off restarting failed container ${this.name} in pod ${this.deps.podRef}`);
    this.deps.onChange();
    await new Promise<void>((resolve) => {
      this.timer = setTimeout(resolve, delay);
      this.wake = resolve;
    });
    if (this.halted) return;
    this.restartCount++;
    return this.attempt(endedAt, delay);
  }

  private wake?: () => void;

  /**
   * Kills the running attempt (SIGTERM, SIGKILL after graceMs) without halting the runner: kubelet's answer
   * to a failed liveness or startup probe. The restart policy and back-off then decide what follows.
   */
  kill(message: string, graceMs: number, event = `Stopping container ${this.name}`): void {
    if (!this.state.running || !this.handle || this.halted) return;
    this.deps.onEvent?.('Killing', event);
    this.killMessage = message;
    void this.handle.stop(graceMs);
  }

  /** Stops it for good: SIGTERM, SIGKILL after graceMs; no more restarts. */
  async stop(graceMs: number): Promise<void> {
    this.halted = true;
    this.settle(undefined);
    this.graceMs = graceMs;
    clearTimeout(this.timer);
    this.wake?.();
    if (this.state.running) this.deps.onEvent?.('Killing', `Stopping container ${this.name}`);
    if (this.handle) await this.handle.stop(graceMs);
    await this.current;
  }

  /** Stops managing it without touching the process (agent stop with stopPods: false); the next run adopts it. */
  detach(): void {
    this.halted = true;
    this.settle(undefined);
    this.detached = true;
    clearTimeout(this.timer);
    this.wake?.();
    this.handle?.release();
  }
}

/**
 * The probes of one container, following its attempts: a new attempt resets every verdict and starts the
 * startup probe (or, without one, liveness and readiness); startup success hands over to liveness and
 * readiness; a failing startup or liveness verdict kills the attempt (the restart policy and CrashLoopBackOff
 * then apply, as in Kubernetes); readiness only changes what the pod reports. One timer per probe.
 */
import type { AgentEventReason } from '../../protocol/event.js';
import type { Container, ContainerState, Probe } from '../../protocol/types.js';
import { checkFor } from './handlers.js';
import { settingsOf } from './settings.js';
import type { ProbeCheck, ProbeKind, ProbeTarget } from './types.js';
import { ProbeWorker } from './worker.js';

/** What the prober sees of its container and may do to it. */
export interface ProbedContainer {
  readonly state: ContainerState;
  readonly restartCount: number;
}

/** What the prober needs from its pod. */
export interface ProberDeps {
  container: ProbedContainer;
  target: ProbeTarget;
  /** Kills the running attempt; `message` ends up in lastState.terminated.message, `event` is the Killing event's text. */
  kill(message: string, event?: string): void;
  /** A verdict the pod reports (ready, started) changed. */
  onChange(): void;
  /** A probe check failed (Unhealthy), as kubelet records it. */
  onEvent?(reason: AgentEventReason, message: string): void;
}

const label: Record<ProbeKind, string> = { liveness: 'Liveness', readiness: 'Readiness', startup: 'Startup' };

/** The probes of one container. */
export class ContainerProber {
  private readonly workers: Partial<Record<ProbeKind, ProbeWorker>> = {};
  /** `restartCount/startedAt` of the attempt being probed. */
  private attempt?: string;
  private startedAtMs = 0;
  private startupDone = false;

  constructor(
    private readonly spec: Container,
    private readonly deps: ProberDeps,
    /** Builds a probe's check; tests pass scripted checks here. */
    makeCheck: (kind: ProbeKind, p: Probe) => ProbeCheck = (_, p) => checkFor(p, deps.target),
  ) {
    const probes: [ProbeKind, Container['livenessProbe'], boolean | undefined][] = [
      ['startup', spec.startupProbe, undefined],
      ['liveness', spec.livenessProbe, true],
      ['readiness', spec.readinessProbe, false],
    ];
    for (const [kind, p, initial] of probes)
      if (p)
        this.workers[kind] = new ProbeWorker(settingsOf(kind, p), makeCheck(kind, p), initial, kind !== 'readiness', (ok, m) => this.verdict(kind, ok, m), (m) =>
          this.deps.onEvent?.('Unhealthy', `${label[kind]} probe failed: ${m ?? 'unknown reason'}`),
        );
  }

  /** Follows the container: call on every change of its state (level-triggered, cheap when nothing changed). */
  sync(): void {
    const running = this.deps.container.state.running;
    const key = running ? `${this.deps.container.restartCount}/${running.startedAt}` : undefined;
    if (key === this.attempt) return;
    this.attempt = key;
    this.stopWorkers();
    this.startupDone = !this.workers.startup;
    if (!running) return;
    this.startedAtMs = Date.parse(running.startedAt ?? '') || Date.now();
    if (this.workers.startup) this.workers.startup.start(this.startedAtMs);
    else this.startMain();
  }

  /** Kubernetes' containerStatuses[].started: running and past its startup probe. */
  started(): boolean {
    return this.deps.container.state.running !== undefined && this.startupDone;
  }

  /** Kubernetes' containerStatuses[].ready: started, and the readiness probe (if any) says so. */
  ready(): boolean {
    const r = this.workers.readiness;
    return this.started() && (r ? r.verdict === true : true);
  }

  /** Stops every probe for good. */
  stop(): void {
    this.attempt = undefined;
    this.stopWorkers();
  }

  private startMain(): void {
    this.workers.liveness?.start(this.startedAtMs);
    this.workers.readiness?.start(this.startedAtMs);
  }

  private stopWorkers(): void {
    for (const w of Object.values(this.workers)) w.stop();
  }

  private verdict(kind: ProbeKind, ok: boolean, message?: string): void {
    if (kind === 'startup' && ok) {
      // Startup succeeded: it never runs again for this attempt, and liveness/readiness take over.
      this.workers.startup?.stop();
      this.startupDone = true;
      this.startMain();
    } else if (kind !== 'readiness' && !ok) {
      this.deps.kill(`${label[kind]} probe failed: ${message ?? 'unknown reason'}; container restarted by the probe`, `Container ${this.spec.name} failed ${kind} probe, will be restarted`);
    }
    this.deps.onChange();
  }
}

/**
 * One pod on this node. Its lifecycle is wired in `run` and nowhere else: prepare → start → probe → report.
 *   prepare: pick the driver, bind ports, make volumes, resolve env and argv, lay out log files (a failure leaves the pod
 *            Pending with the reason, and is retried when a new desired set arrives);
 *   start:   one ContainerRunner per container (restarts and back-off live there);
 *   probe:   one Prober per container decides readiness and started, and kills on a failed liveness/startup probe;
 *   report:  every change calls `onChange`, and the agent batches the reports.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { AgentEventReason } from '../../protocol/event.js';
import type { DesiredMessage } from '../../protocol/messages.js';
import { own } from '../../protocol/own.js';
import type { Pod, PodPortStatus, PodStatus } from '../../protocol/types.js';
import { driverFor, runtimeClassOf, runtimeNames } from '../drivers/registry.js';
import type { Driver } from '../drivers/types.js';
import { writeFileAtomic } from '../fsutil.js';
import type { Logger } from '../log.js';
import type { BackoffConfig } from './backoff.js';
import { ContainerRunner, type RestartEvent } from './container.js';
import type { PodEvent } from './events.js';
import { resolveArgv, resolveEnv } from './env.js';
import { bindPorts } from './ports.js';
import { PodVolumes } from '../volumes/podvolumes.js';
import { proberFor, type Prober } from './probe.js';
import { ConditionClock, podConditions, podPhase, type ContainerView } from './status.js';

/** What every pod shares: the node's identity and where files go. */
export interface PodContext {
  nodeName: string;
  hostIP: string;
  allocatable: { cpuMilli: number; memoryBytes: number };
  crashLoop: BackoffConfig;
  /** DATA/pods */
  podsDir: string;
  /** DATA/logs */
  logsDir: string;
  onChange(uid: string): void;
  onRestart(uid: string, e: RestartEvent): void;
  log: Logger;
  /** An event about the pod (kubelet's: Started, BackOff, Killing, Unhealthy, Failed), for the next report. */
  onEvent?(e: PodEvent): void;
}

/** The result of prepare: what start needs. */
interface Plan {
  driver: Driver;
  launches: { name: string; argv: string[]; env: Record<string, string>; workingDir?: string }[];
}

/** The pod's log directory: `<namespace>_<name>_<uid>`, the kubelet's /var/log/pods layout. */
export function podLogDir(logsDir: string, pod: Pod): string {
  return path.join(logsDir, `${pod.metadata.namespace ?? 'default'}_${pod.metadata.name}_${pod.metadata.uid}`);
}

/** Runs one pod. */
export class PodRunner {
  readonly uid: string;
  containers: ContainerRunner[] = [];
  private probers: Prober[] = [];
  private ports: PodPortStatus[] = [];
  private volumes?: PodVolumes;
  private prepared = false;
  private preparing = false;
  private blocked?: { reason: string; message: string };
  /** A desired set that arrived while prepare ran: a blocked prepare tries again with it (it may bring the missing piece). */
  private newer?: DesiredMessage;
  /** status.startTime: when an agent first took the pod on (kept in state.json across agent restarts). */
  private startTime = new Date().toISOString();
  private readonly clock = new ConditionClock();
  /** Each container's restartCount at this run's first attempt when nothing can be adopted (see initialCounts). */
  private firstCounts?: Record<string, number>;
  private stateWrite: Promise<void> = Promise.resolve();

  constructor(
    readonly pod: Pod,
    private readonly ctx: PodContext,
  ) {
    this.uid = pod.metadata.uid as string;
  }

  get namespace(): string {
    return this.pod.metadata.namespace ?? 'default';
  }

  get name(): string {
    return this.pod.metadata.name;
  }

  /** The lifecycle: prepare → start → probe → report. */
  async run(desired: DesiredMessage): Promise<void> {
    if (this.prepared || this.preparing) return;
    this.preparing = true;
    this.newer = undefined;
    const plan = await this.prepare(desired).finally(() => (this.preparing = false));
    // A set that came meanwhile (a claim bound, a ConfigMap made) may unblock what this one could not.
    const newer = this.newer;
    this.newer = undefined;
    if (!plan && this.blocked && newer && !this.stopped) return this.run(newer);
    if (plan && !this.stopped) {
      this.starting = this.start(plan);
      await this.starting;
      if (!this.stopped) this.probe(plan);
    }
    this.report();
  }

  /**
   * A new desired set: retries a prepare that failed (a ConfigMap may have arrived); a running pod keeps
   * running, its configMap/secret volume files follow the new content (its env does not, as in Kubernetes).
   */
  update(desired: DesiredMessage): void {
    if (this.preparing) this.newer = desired;
    else if (!this.prepared && this.blocked) void this.run(desired);
    else if (this.prepared && !this.stopped) void this.volumes?.refresh(desired);
  }

  private async prepare(desired: DesiredMessage): Promise<Plan | undefined> {
    const rc = runtimeClassOf(this.pod);
    const driver = driverFor(rc);
    if (!driver) return this.block('RuntimeNotAvailable', `runtime "${rc}" is not available on node ${this.ctx.nodeName} (it has: ${runtimeNames.join(', ')})`);
    if (this.pod.spec.initContainers?.length) return this.block('InitContainersNotSupported', 'skiff-agent does not run initContainers yet');
    const stateFile = path.join(this.ctx.podsDir, this.uid, 'state.json');
    try {
      await fs.promises.mkdir(path.dirname(stateFile), { recursive: true });
      const previous = readState(stateFile);
      this.ports = await bindPorts(this.pod, previous.ports);
      this.firstCounts ??= initialCounts(this.pod, previous.restarts);
      if (previous.startTime) this.startTime = previous.startTime;
      // The previous counts stay until a container starts (a pod that never starts does not count up).
      await writeFileAtomic(stateFile, JSON.stringify({ ports: this.ports, restarts: previous.restarts, startTime: this.startTime }));
      const volumes = new PodVolumes(this.pod, path.join(this.ctx.podsDir, this.uid, 'volumes'));
      this.volumes = volumes; // before setup, so stop() removes the links of a half-done setup too
      await volumes.setup(desired);
      const launches = this.pod.spec.containers.map((c) => {
        const env = resolveEnv(c, { pod: this.pod, desired, nodeName: this.ctx.nodeName, hostIP: this.ctx.hostIP, ports: this.ports, allocatable: this.ctx.allocatable, extra: volumes.envFor(c) });
        return { name: c.name, argv: resolveArgv(c, env), env, workingDir: c.workingDir };
      });
      this.blocked = undefined;
      this.prepared = true;
      return { driver, launches };
    } catch (err) {
      return this.block('CreateContainerConfigError', (err as Error).message);
    }
  }

  private block(reason: string, message: string): undefined {
    // kubelet records a configuration error as a Failed event; a runtime the node lacks is the scheduler's to explain.
    if (reason === 'CreateContainerConfigError' && this.blocked?.message !== message) this.event('Failed', `Error: ${message}`);
    this.blocked = { reason, message };
    return undefined;
  }

  /** One runner per container, each first adopting what a previous agent run left of it (docs/lifecycle.md). */
  private async start(plan: Plan): Promise<void> {
    const logDir = podLogDir(this.ctx.logsDir, this.pod);
    const podRef = `${this.namespace}/${this.name}`;
    const stateDir = path.join(this.ctx.podsDir, this.uid);
    const graceMs = this.graceMs();
    const adopted = await Promise.all(plan.launches.map((l) => plan.driver.adopt({ podUid: this.uid, containerName: l.name, stateDir })));
    if (this.detached) {
      for (const a of adopted) if (a.kind === 'running') a.handle.release();
      return;
    }
    adopted.forEach((a, i) => {
      const c = `pod ${podRef}: container ${plan.launches[i].name}`;
      if (a.kind === 'running') this.ctx.log.info(`${c}: adopted its running process ${a.handle.pid} (restartCount ${a.restartCount})`);
      else if (a.kind === 'exited') this.ctx.log.info(`${c}: ended with exit code ${a.exit.exitCode} while no agent ran`);
    });
    this.containers = plan.launches.map(
      (l, i) =>
        new ContainerRunner(l.name, {
          driver: plan.driver,
          restartPolicy: this.pod.spec.restartPolicy!,
          backoff: this.ctx.crashLoop,
          podRef,
          launch: (restartCount) => ({
            podUid: this.uid, namespace: this.namespace, podName: this.name, containerName: l.name,
            argv: l.argv, env: l.env, workingDir: l.workingDir,
            logFile: path.join(logDir, l.name, `${restartCount}.log`),
            stateDir, restartCount, graceMs,
          }),
          onChange: () => {
            this.probers[i]?.sync();
            this.report();
          },
          onRestart: (e) => {
            this.saveCounts();
            this.ctx.onRestart(this.uid, e);
          },
          onEvent: (reason, message) => this.event(reason, message, l.name),
          firstRestartCount: own(this.firstCounts, l.name) ?? 0,
        }),
    );
    this.containers.forEach((c, i) => c.start(adopted[i]));
    this.saveCounts();
    // A stop that came while adopting: the runners exist now, so stop() reaches the adopted processes.
  }

  /** The pod's terminationGracePeriodSeconds in ms. */
  private graceMs(): number {
    return this.pod.spec.terminationGracePeriodSeconds! * 1000; // defaulted on admission (applyDefaults)
  }

  private probe(plan: Plan): void {
    const graceMs = this.graceMs();
    this.probers = this.pod.spec.containers.map((c, i) => {
      const runner = this.containers[i];
      const l = plan.launches[i];
      // Probes reach the process over loopback: process pods share the host network.
      const target = { containerName: c.name, host: '127.0.0.1', ports: this.ports, env: l.env, workingDir: l.workingDir };
      return proberFor(c, { container: runner, target, kill: (m, e) => runner.kill(m, graceMs, e), onChange: () => this.report(), onEvent: (reason, message) => this.event(reason, message, c.name) });
    });
    for (const p of this.probers) p.sync();
  }

  /** Persists the restart counts beside the ports (DATA/pods/<uid>/state.json), one write at a time, the latest last. */
  private saveCounts(): void {
    const file = path.join(this.ctx.podsDir, this.uid, 'state.json');
    this.stateWrite = this.stateWrite
      .then(() => writeFileAtomic(file, JSON.stringify({ ports: this.ports, restarts: Object.fromEntries(this.containers.map((c) => [c.name, c.restartCount])), startTime: this.startTime })))
      .catch(() => undefined); // the pod's dir is gone: the pod was deleted meanwhile
  }

  private report(): void {
    this.ctx.onChange(this.uid);
  }

  private event(reason: AgentEventReason, message: string, container?: string): void {
    this.ctx.onEvent?.({ namespace: this.namespace, name: this.name, uid: this.uid, ...(container ? { container } : {}), reason, message });
  }

  private stopped = false;
  private detached = false;
  /** The start step while it adopts and starts (stop waits for it, so it reaches every process). */
  private starting: Promise<void> = Promise.resolve();

  /** Stops every container (SIGTERM, SIGKILL after the pod's terminationGracePeriodSeconds). */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.starting;
    for (const p of this.probers) p.stop();
    await Promise.all(this.containers.map((c) => c.stop(this.graceMs())));
    await this.volumes?.cleanup();
  }

  /** Leaves the processes running and stops managing them: the next agent run adopts them. */
  detach(): void {
    this.stopped = true;
    this.detached = true;
    for (const p of this.probers) p.stop();
    for (const c of this.containers) c.detach();
  }

  /** The pod's status now. */
  status(): PodStatus {
    const views: ContainerView[] = this.prepared
      ? this.containers.map((c, i) => {
          const ready = this.probers[i]?.ready() ?? false;
          return {
            finished: c.finished,
            status: { name: c.name, ready, started: this.probers[i]?.started() ?? false, restartCount: c.restartCount, state: c.state, ...(c.lastState ? { lastState: c.lastState } : {}) },
          };
        })
      : this.pod.spec.containers.map((c) => ({
          finished: false,
          status: { name: c.name, ready: false, started: false, restartCount: 0, state: { waiting: this.blocked ?? { reason: 'ContainerCreating' } } },
        }));
    const phase = podPhase(views, this.prepared);
    return {
      phase,
      conditions: podConditions(this.clock, views, this.prepared, phase),
      containerStatuses: views.map((v) => v.status),
      hostIP: this.ctx.hostIP,
      podIP: this.ctx.hostIP,
      startTime: this.startTime,
      ...(this.blocked ? { reason: this.blocked.reason, message: this.blocked.message } : {}),
      ...(this.ports.length ? { ports: this.ports } : {}),
    };
  }
}

/** The pod's state from a previous run: its host ports, each container's last restartCount, its startTime. */
function readState(stateFile: string): { ports: PodPortStatus[]; restarts: Record<string, number>; startTime?: string } {
  try {
    const s = JSON.parse(fs.readFileSync(stateFile, 'utf8')) as { ports?: PodPortStatus[]; restarts?: Record<string, number>; startTime?: unknown };
    const restarts = s.restarts && typeof s.restarts === 'object' ? s.restarts : {};
    const startTime = typeof s.startTime === 'string' && !Number.isNaN(Date.parse(s.startTime)) ? s.startTime : undefined;
    return { ports: Array.isArray(s.ports) ? s.ports : [], restarts, ...(startTime ? { startTime } : {}) };
  } catch {
    return { ports: [], restarts: {} };
  }
}

/**
 * restartCount survives an agent restart, as Kubernetes' does through the runtime's records. Normally the
 * driver's record of the last attempt gives it (adoption, pods/container.ts `start`); without one, a container
 * that ran under a previous agent run starts again as a restart, counted as after a node reboot (and its log
 * goes to a new `<restartCount>.log`).
 */
function initialCounts(pod: Pod, previous: Record<string, number>): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const c of pod.spec.containers) {
    const n = own(previous, c.name);
    counts[c.name] = typeof n === 'number' && Number.isInteger(n) && n >= 0 ? n + 1 : 0;
  }
  return counts;
}

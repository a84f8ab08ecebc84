/**
 * One pod on this node. Its lifecycle is wired in `run` and nowhere else: prepare → start → probe → sequence → report.
 *   prepare:  pick the driver, bind ports, make volumes, resolve env and argv, pull images (a failure leaves the
 *             pod Pending with the reason, retried when a new desired set arrives, or after a back-off for a
 *             failed pull);
 *   start:    adopt what a previous agent run left of each container; one ContainerRunner per container;
 *   probe:    one Prober per sidecar and app container decides readiness and started, and kills on a failed
 *             liveness/startup probe;
 *   sequence: init containers in order, each to completion (a sidecar only until it has started, then it keeps
 *             running), then the app containers; sidecars stop once every app container finished for good
 *             (sequence.ts);
 *   report:   every change calls `onChange`, and the agent batches the reports.
 * A pod is a sandbox for process pods too: its containers share its volumes and, as every process pod, the
 * host's network (localhost) — docs/workloads.md. A container pod's sandbox is the engine's infra container
 * (its own network namespace and address on a bridge pod network: oci-prepare.ts, docs/containers.md).
 */
import fs from 'node:fs';
import path from 'node:path';
import { isAgentEventReason, type AgentEventReason } from '../../protocol/event.js';
import type { DesiredMessage } from '../../protocol/messages.js';
import { own } from '../../protocol/own.js';
import { qosClass } from '../../protocol/qos.js';
import type { Pod, PodPortStatus, PodStatus } from '../../protocol/types.js';
import type { Cgroups } from '../cgroups/types.js';
import { runtimeClassOf, type DriverSet } from '../drivers/registry.js';
import { writeIfChanged } from '../fsutil.js';
import type { Logger } from '../log.js';
import { PodVolumes } from '../volumes/podvolumes.js';
import { podSecretDir } from '../volumes/tmpfs.js';
import { agentUser, runAsFor, volumeOwner } from './user.js';
import type { BackoffConfig } from './backoff.js';
import { ContainerRunner, type RestartEvent } from './container.js';
import type { PodEvent } from './events.js';
import { launchesOf, type Launch, type Plan } from './plan.js';
import type { ProbeTarget } from '../probes/types.js';
import { ociLaunches, ociProbeTarget, prepareOciNetwork } from './oci-prepare.js';
import type { PodNetwork } from './oci.js';
import { bindPorts } from './ports.js';
import { proberFor, type Prober } from './probe.js';
import { PullRetry, pullImages } from './pull.js';
import { runSequence } from './sequence.js';
import { initialCounts, readState } from './state.js';
import { ConditionClock, podConditions, podPhase } from './status.js';
import { podView } from './view.js';

/** What every pod shares: the node's identity, its drivers and cgroups, and where files go. */
export interface PodContext {
  nodeName: string;
  hostIP: string;
  allocatable: { cpuMilli: number; memoryBytes: number };
  crashLoop: BackoffConfig;
  drivers: DriverSet;
  /** The node's cgroup tree; undefined when limits cannot be enforced here (the node condition says why). */
  cgroups?: Cgroups;
  /** DATA/pods */
  podsDir: string;
  /** DATA/logs */
  logsDir: string;
  /** The tmpfs base of secret volumes (volumes/tmpfs.ts); absent: they stay on disk. */
  secretBase?: string;
  onChange(uid: string): void;
  onRestart(uid: string, e: RestartEvent): void;
  log: Logger;
  /** An event about the pod (kubelet's: Started, BackOff, Killing, Unhealthy, Failed), for the next report. */
  onEvent?(e: PodEvent): void;
  /** How container pods get their network (agent.ts settles it at start); absent: the node's (host). */
  podNetwork?: PodNetwork;
  /** Back-off between failed image pulls; default: crashLoop's. */
  pullBackoff?: Pick<BackoffConfig, 'initialMs' | 'maxMs'>;
}

/** The pod's log directory: `<namespace>_<name>_<uid>`, the kubelet's /var/log/pods layout. */
export function podLogDir(logsDir: string, pod: Pod): string {
  return path.join(logsDir, `${pod.metadata.namespace ?? 'default'}_${pod.metadata.name}_${pod.metadata.uid}`);
}

/** Runs one pod. */
export class PodRunner {
  readonly uid: string;
  /** The app containers' runners, in spec order. */
  containers: ContainerRunner[] = [];
  /** The init containers' runners (sidecars included), in spec order. */
  initContainers: ContainerRunner[] = [];
  readonly probers = new Map<string, Prober>();
  private ports: PodPortStatus[] = [];
  /** The pod's own address (a container pod's sandbox on a bridge network); undefined: the node's. */
  private podIP?: string;
  /** The driver that runs the pod, once prepared (stop asks it to remove what it keeps for the pod). */
  driver?: Plan['driver'];
  private volumes?: PodVolumes;
  private prepared = false;
  private preparing = false;
  private blocked?: { reason: string; message: string };
  /** While an image pull runs: how far it is, as the containers' waiting message (at most once a second). */
  private pulling?: { reason: string; message: string; at: number };
  /** status.startTime: when an agent first took the pod on (kept in state.json across agent restarts). */
  private startTime = new Date().toISOString();
  private readonly clock = new ConditionClock();
  /** Each container's restartCount at this run's first attempt when nothing can be adopted (see initialCounts). */
  private firstCounts?: Record<string, number>;
  private stateWrite: Promise<void> = Promise.resolve();
  private readonly pullRetry: PullRetry;
  /** The newest desired set: a prepare blocked by an older one tries again with it (it may bring the missing piece). */
  private latest?: DesiredMessage;

  constructor(
    readonly pod: Pod,
    private readonly ctx: PodContext,
  ) {
    this.uid = pod.metadata.uid as string;
    this.pullRetry = new PullRetry(ctx.pullBackoff ?? ctx.crashLoop);
  }

  /** The pod's own address when it has one (a container pod's sandbox on a bridge network); else undefined. */
  get podAddress(): string | undefined {
    return this.podIP;
  }

  get namespace(): string {
    return this.pod.metadata.namespace ?? 'default';
  }

  get name(): string {
    return this.pod.metadata.name;
  }

  /** Every container's runner, init containers first. */
  allContainers(): ContainerRunner[] {
    return [...this.initContainers, ...this.containers];
  }

  /** A container's runner by name (init or app). */
  container(name: string): ContainerRunner | undefined {
    return this.allContainers().find((c) => c.name === name);
  }

  /** The lifecycle: prepare → start → probe → sequence → report. */
  async run(desired: DesiredMessage): Promise<void> {
    this.latest = desired;
    if (this.prepared || this.preparing) return;
    this.preparing = true;
    const plan = await this.prepare(desired).finally(() => (this.preparing = false));
    // A set that came meanwhile (a claim bound, a ConfigMap made) may unblock what this one could not.
    const newer = this.latest !== desired ? this.latest : undefined;
    if (!plan && this.blocked && newer && !this.pullRetry.waiting && !this.stopped) return this.run(newer);
    if (plan && newer) void this.volumes?.refresh(newer);
    if (plan && !this.stopped) {
      this.starting = this.start(plan);
      await this.starting;
      if (!this.stopped && !this.detached) {
        this.probe(plan);
        this.sequence = runSequence(this, plan.launches, this.adopted, this.graceMs()).catch((err) => this.ctx.log.error(`pod ${this.namespace}/${this.name}: ${(err as Error).stack ?? err}`));
      }
    }
    this.report();
  }

  /**
   * A new desired set: retries a prepare that failed (a ConfigMap may have arrived); a running pod keeps
   * running, its configMap/secret volume files follow the new content (its env does not, as in Kubernetes).
   */
  update(desired: DesiredMessage): void {
    this.latest = desired;
    // While a prepare runs, it picks the newest set up when it ends (run).
    if (this.preparing) return;
    if (!this.prepared && this.blocked && !this.pullRetry.waiting) void this.run(desired);
    else if (this.prepared && !this.stopped) void this.volumes?.refresh(desired);
  }

  private async prepare(desired: DesiredMessage): Promise<Plan | undefined> {
    const rc = runtimeClassOf(this.pod);
    const driver = this.ctx.drivers.get(rc);
    if (!driver) return this.block('RuntimeNotAvailable', `runtime "${rc}" is not available on node ${this.ctx.nodeName} (it has: ${this.ctx.drivers.names.join(', ')})`);
    this.driver = driver;
    // A container pod's user is the engine's to set (`User` in its create options): not switched here.
    const oci = rc === 'container';
    const agent = agentUser();
    const all = [...(this.pod.spec.initContainers ?? []), ...this.pod.spec.containers];
    const users = all.map((c) => (oci ? {} : runAsFor(this.pod, c, agent)));
    const refused = users.find((u) => u.refusal);
    if (refused) return this.block('CreateContainerConfigError', refused.refusal!);
    const stateFile = path.join(this.ctx.podsDir, this.uid, 'state.json');
    let launches: Launch[];
    try {
      // 0711: a pod running as another user passes through to its volumes; it cannot list or read the agent's files.
      await fs.promises.mkdir(path.dirname(stateFile), { recursive: true, mode: 0o711 });
      await fs.promises.chmod(path.dirname(stateFile), 0o711);
      const previous = readState(stateFile);
      const net = oci ? await prepareOciNetwork({ pod: this.pod, driver, net: this.ctx.podNetwork ?? { mode: 'host' }, previousPorts: previous.ports, graceMs: this.graceMs() }) : undefined;
      this.ports = net ? net.ports : await bindPorts(this.pod, previous.ports);
      this.podIP = net?.podIP;
      this.firstCounts ??= initialCounts([...(this.pod.spec.initContainers ?? []), ...this.pod.spec.containers], previous.restarts);
      if (previous.startTime) this.startTime = previous.startTime;
      // The previous counts stay until a container starts (a pod that never starts does not count up).
      // Queued, not awaited: the start does not wait for an fsync (the writes stay in order).
      this.writeState(previous.restarts);
      const secretDir = this.ctx.secretBase ? podSecretDir(this.ctx.secretBase, this.uid) : undefined;
      const owner = volumeOwner(users.map((u) => u.user));
      // A container sees its volumes bind-mounted: no symlinks under its workingDir (that path is inside the image).
      const volumes = new PodVolumes(this.pod, path.join(this.ctx.podsDir, this.uid, 'volumes'), { secretDir, owner, links: !oci });
      this.volumes = volumes; // before setup, so stop() removes the links of a half-done setup too
      await volumes.setup(desired);
      launches = launchesOf({
        pod: this.pod, desired, nodeName: this.ctx.nodeName, hostIP: this.ctx.hostIP, ports: net ? net.inside : this.ports, allocatable: this.ctx.allocatable, volumes,
        cgroups: oci ? undefined : this.ctx.cgroups, users: new Map(all.map((c, i) => [c.name, users[i].user])), ...(net ? { env: net.env, imageCommand: true } : {}),
      });
      if (net) ociLaunches(this.pod, launches, { sandbox: net.sandbox, dirOf: (v) => volumes.dirOf(v) });
    } catch (err) {
      return this.block('CreateContainerConfigError', (err as Error).message);
    }
    if (!(await this.pull(driver, launches, desired))) return undefined;
    // The engine enforces a container pod's limits itself (HostConfig), cgroups here or not.
    if (!launches.some((l) => l.oci)) this.warnUnlimited(launches);
    this.blocked = undefined;
    this.prepared = true;
    return { driver, launches };
  }

  /** Pulls every image (a wasi module, an OCI image); a failed pull blocks the pod and is retried after a back-off. */
  private async pull(driver: Plan['driver'], launches: Launch[], desired: DesiredMessage): Promise<boolean> {
    const event = (_type: string, reason: string, message: string, container?: string) => isAgentEventReason(reason) && this.event(reason, message, container);
    const secrets = (this.pod.spec.imagePullSecrets ?? []).map((s) => s.name);
    const progress = (image: string) => (text: string) => {
      if (!text || (this.pulling && Date.now() - this.pulling.at < 1000)) return;
      this.pulling = { reason: 'ContainerCreating', message: `pulling image "${image}": ${text}`, at: Date.now() };
      this.report();
    };
    const failed = await pullImages(driver, launches, { namespace: this.namespace, desired, log: this.ctx.log, imagePullSecrets: secrets }, event, progress).finally(() => (this.pulling = undefined));
    if (!failed) {
      this.pullRetry.reset();
      return true;
    }
    const backOff = this.pullRetry.retried && failed.reason === 'ErrImagePull';
    // kubelet: ErrImagePull on the failed try, then ImagePullBackOff (a BackOff event) while it waits for the next.
    if (backOff && failed.image) this.event('BackOff', `Back-off pulling image "${failed.image}"`, failed.container);
    this.block(backOff ? 'ImagePullBackOff' : failed.reason, failed.message);
    if (failed.reason === 'ErrImagePull') this.pullRetry.schedule(() => !this.stopped && this.latest && void this.run(this.latest));
    return false;
  }

  /** Limits asked for on a node that cannot enforce them: said once per pod (the node condition says why). */
  private warnUnlimited(launches: Launch[]): void {
    if (this.ctx.cgroups || !launches.some((l) => l.limits.memoryBytes !== undefined || l.limits.cpuMilli !== undefined)) return;
    const message = `resources.limits are not enforced on node ${this.ctx.nodeName} (see its ResourceLimits condition): the pod runs unlimited`;
    this.ctx.log.warn(`pod ${this.namespace}/${this.name}: ${message}`);
    this.event('LimitsNotEnforced', message);
  }

  private block(reason: string, message: string): undefined {
    // kubelet records a configuration error (and a failed pull) as a Failed event; a runtime the node lacks is the scheduler's to explain.
    if (reason !== 'RuntimeNotAvailable' && this.blocked?.message !== message) this.event('Failed', `Error: ${message}`);
    this.blocked = { reason, message };
    this.report();
    return undefined;
  }

  /** What a previous agent run left of each container, by launch index. */
  private adopted: Awaited<ReturnType<Plan['driver']['adopt']>>[] = [];

  /** One runner per container, each first adopting what a previous agent run left of it (docs/lifecycle.md). */
  private async start(plan: Plan): Promise<void> {
    const stateDir = path.join(this.ctx.podsDir, this.uid);
    const logDir = podLogDir(this.ctx.logsDir, this.pod);
    this.adopted = await Promise.all(plan.launches.map((l) => plan.driver.adopt({ podUid: this.uid, containerName: l.name, stateDir, cgroup: l.cgroup, logDir: path.join(logDir, l.name) })));
    if (this.detached) {
      for (const a of this.adopted) if (a.kind === 'running') a.handle.release();
      return;
    }
    const podRef = `${this.namespace}/${this.name}`;
    this.adopted.forEach((a, i) => {
      const c = `pod ${podRef}: container ${plan.launches[i].name}`;
      if (a.kind === 'running') this.ctx.log.info(`${c}: adopted its running process ${a.handle.pid} (restartCount ${a.restartCount})`);
      else if (a.kind === 'exited') this.ctx.log.info(`${c}: ended with exit code ${a.exit.exitCode} while no agent ran`);
    });
    const hasInit = plan.launches.some((l) => l.role !== 'app');
    const runners = plan.launches.map((l) => this.runnerFor(plan, l, stateDir, hasInit));
    this.initContainers = runners.filter((_, i) => plan.launches[i].role !== 'app');
    this.containers = runners.filter((_, i) => plan.launches[i].role === 'app');
    // A stop that came while adopting: the runners exist now, so stop() reaches the adopted processes.
  }

  private runnerFor(plan: Plan, l: Launch, stateDir: string, hasInit: boolean): ContainerRunner {
    const logDir = podLogDir(this.ctx.logsDir, this.pod);
    const graceMs = this.graceMs();
    const policy = this.pod.spec.restartPolicy!;
    // Kubernetes: a sidecar always restarts; a regular init container is retried on failure unless the pod's policy is Never.
    const restartPolicy = l.role === 'sidecar' ? 'Always' : l.role === 'init' ? (policy === 'Never' ? 'Never' : 'OnFailure') : policy;
    return new ContainerRunner(l.name, {
      driver: plan.driver,
      restartPolicy,
      backoff: this.ctx.crashLoop,
      podRef: `${this.namespace}/${this.name}`,
      waitingReason: hasInit ? 'PodInitializing' : 'ContainerCreating',
      launch: (restartCount) => ({
        podUid: this.uid, namespace: this.namespace, podName: this.name, containerName: l.name,
        argv: l.argv, env: l.env, workingDir: l.workingDir, user: l.user,
        logFile: path.join(logDir, l.name, `${restartCount}.log`),
        stateDir, restartCount, graceMs,
        image: l.container.image, imageRef: l.imageRef, limits: l.limits, cgroup: l.cgroup, mounts: l.mounts,
        ...(l.oci ? { oci: l.oci } : {}),
      }),
      onChange: () => {
        this.probers.get(l.name)?.sync();
        this.report();
      },
      onRestart: (e) => {
        this.saveCounts();
        this.ctx.onRestart(this.uid, e);
      },
      onEvent: (reason, message) => this.event(reason, message, l.name),
      firstRestartCount: own(this.firstCounts, l.name) ?? 0,
    });
  }

  /** The pod's terminationGracePeriodSeconds in ms. */
  graceMs(): number {
    return this.pod.spec.terminationGracePeriodSeconds! * 1000; // defaulted on admission (applyDefaults)
  }

  /** Probers for sidecars and app containers (regular init containers have no probes). */
  private probe(plan: Plan): void {
    const graceMs = this.graceMs();
    for (const l of plan.launches) {
      if (l.role === 'init') continue;
      const runner = this.container(l.name) as ContainerRunner;
      const target = this.probeTarget(plan, l, runner);
      const deps = { container: runner, target, kill: (m: string, e?: string) => runner.kill(m, graceMs, e), onChange: () => this.report(), onEvent: (reason: AgentEventReason, message: string) => this.event(reason, message, l.name) };
      this.probers.set(l.name, proberFor(l.container, deps));
    }
    for (const p of this.probers.values()) p.sync();
  }

  /** Where a container's probes go: process pods share the host network (loopback); container pods: oci-prepare.ts. */
  private probeTarget(plan: Plan, l: Launch, runner: ContainerRunner): ProbeTarget {
    const base = { containerName: l.name, env: l.env, workingDir: l.workingDir, user: l.user };
    return l.oci ? ociProbeTarget(base, { driver: plan.driver, runner, podIP: this.podIP, ports: this.ports }) : { ...base, host: '127.0.0.1', ports: this.ports };
  }

  /** Persists the restart counts beside the ports (DATA/pods/<uid>/state.json), one write at a time, the latest last. */
  saveCounts(): void {
    this.writeState(Object.fromEntries(this.allContainers().map((c) => [c.name, c.restartCount])));
  }

  private writeState(restarts: Record<string, number>): void {
    const file = path.join(this.ctx.podsDir, this.uid, 'state.json');
    this.stateWrite = this.stateWrite
      // Written only when it changed (an SD card is spared a rewrite of the same bytes at every adoption).
      .then(async () => void (await writeIfChanged(file, JSON.stringify({ ports: this.ports, restarts, startTime: this.startTime }), 0o600)))
      .catch(() => undefined); // the pod's dir is gone: the pod was deleted meanwhile
  }

  /** Something changed: report it (and let the sequence re-check what it waits for). */
  report(): void {
    for (const w of [...this.waiters]) w();
    this.ctx.onChange(this.uid);
  }

  private event(reason: AgentEventReason, message: string, container?: string): void {
    this.ctx.onEvent?.({ namespace: this.namespace, name: this.name, uid: this.uid, ...(container ? { container } : {}), reason, message });
  }

  /** Checks run on every change (sequence.ts waits on them). */
  readonly waiters = new Set<() => void>();

  /** True once stop or detach began: the sequence starts nothing more. */
  get halted(): boolean {
    return this.stopped || this.detached;
  }

  private stopped = false;
  private detached = false;
  /** The start step while it adopts and creates runners (stop waits for it, so it reaches every process). */
  private starting: Promise<void> = Promise.resolve();
  private sequence: Promise<void> = Promise.resolve();

  /** Stops every container: app containers first, then sidecars in reverse order (SIGTERM, SIGKILL after the grace period). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.pullRetry.reset();
    await this.starting;
    this.report(); // wakes the sequence so it starts nothing more
    for (const p of this.probers.values()) p.stop();
    await Promise.all(this.containers.map((c) => c.stop(this.graceMs())));
    for (const c of [...this.initContainers].reverse()) await c.stop(this.graceMs());
    await this.sequence;
    await this.stateWrite; // before the manager removes the pod's dir
    await this.driver?.removePod?.(this.uid).catch((err) => this.ctx.log.warn(`pod ${this.namespace}/${this.name}: removing its containers: ${(err as Error).message}`));
    await this.volumes?.cleanup();
  }

  /** Leaves the processes running and stops managing them: the next agent run adopts them. */
  detach(): void {
    this.detached = true;
    this.pullRetry.reset();
    for (const p of this.probers.values()) p.stop();
    for (const c of this.allContainers()) c.detach();
    this.report();
  }

  /** The pod's status now. */
  status(): PodStatus {
    const v = podView({ pod: this.pod, prepared: this.prepared && this.containers.length > 0, blocked: this.blocked ?? (this.pulling ? { reason: this.pulling.reason, message: this.pulling.message } : undefined), init: this.initContainers, app: this.containers, probers: this.probers });
    const phase = podPhase(v);
    return {
      phase,
      conditions: podConditions(this.clock, v, phase),
      ...(v.init.length ? { initContainerStatuses: v.init.map((c) => c.status) } : {}),
      containerStatuses: v.app.map((c) => c.status),
      qosClass: qosClass(this.pod.spec),
      hostIP: this.ctx.hostIP,
      podIP: this.podIP ?? this.ctx.hostIP,
      startTime: this.startTime,
      ...(this.blocked ? { reason: this.blocked.reason, message: this.blocked.message } : {}),
      ...(this.ports.length ? { ports: this.ports } : {}),
    };
  }
}

/**
 * The container driver: OCI images through the Docker Engine API (Docker, Podman's API service, balenaEngine),
 * with dockerode. Its records are the engine's own: every container carries labels naming the node, pod uid,
 * container and attempt (labels.ts), so a later agent run finds and adopts them with a list call, and the
 * containers run under the engine (conmon / containerd-shim), not under the agent: an agent that stops or is
 * killed leaves them running. The pipeline of one attempt:
 *   pull     the image, by pull policy, with the pod's pull secrets (images.ts; pods/pull.ts retries with back-off)
 *   start    the pod's sandbox (sandbox.ts), leftovers of this container removed, create + start (spec.ts)
 *   follow   wait → exit code, OOM from the cgroup where the engine does not say (handle.ts, oom.ts); the output
 *            copied from the engine's log into the attempt's log file, as a process pod's (logcopy.ts)
 * The previous attempt's container is kept (stopped), as the kubelet keeps one dead container.
 */
import fs from 'node:fs';
import path from 'node:path';
import { writeIfChanged } from '../../fsutil.js';
import type { Logger } from '../../log.js';
import { defaultPullPolicy } from '../../../protocol/image.js';
import type { Adoption, ContainerHandle, ContainerRef, Driver, ExecRequest, ExecSession, ExecTarget, ExitInfo, LaunchSpec, PullContext } from '../types.js';
import { pullSecretAuths } from './auths.js';
import { engineMessage, inspect, listOwn, removeContainer, type Engine } from './engine.js';
import { execIn } from './exec.js';
import { exitOf, watchContainer } from './handle.js';
import type { EngineInfo } from './endpoint.js';
import { ensureImage } from './images.js';
import { L, readLabels } from './labels.js';
import { LogCopier } from './logcopy.js';
import { oomKillLogged } from './oom.js';
import { ensureSandbox, removePodContainers, type Sandbox, type SandboxOwner } from './sandbox.js';
import { createOptions } from './spec.js';
import type { OciLaunch, SandboxSpec } from './types.js';

/** A start that failed before the container ran (Kubernetes: StartError, exit code 128). */
function startError(startedAt: Date, message: string): ContainerHandle {
  const exited = Promise.resolve<ExitInfo>({ exitCode: 128, reason: 'StartError', message, finishedAt: new Date() });
  return { startedAt, exited, stop: () => exited, release: () => {}, stats: () => undefined };
}

/** A launch without a container part (the contract suite's): argv as the command, the node's network, no sandbox. */
function plainLaunch(spec: LaunchSpec): OciLaunch {
  return { ...(spec.argv.length ? { entrypoint: spec.argv } : {}), security: {}, sandbox: { network: 'host', hostname: spec.podName, ports: [] } };
}

/** Where a container's record of its latest attempt's log file is: DATA/pods/<uid>/<container>.log-file (the agent's own file, not a label anyone with the socket could set). */
const logRecord = (ref: Pick<ContainerRef, 'stateDir' | 'containerName'>) => path.join(ref.stateDir, `${ref.containerName}.log-file`);

/** Records the attempt's log file, so an adopting driver copies the output on into the same file. */
async function writeLogRecord(spec: LaunchSpec): Promise<void> {
  await fs.promises.mkdir(spec.stateDir, { recursive: true, mode: 0o711 });
  await writeIfChanged(logRecord(spec), JSON.stringify({ attempt: spec.restartCount, logFile: spec.logFile }), 0o600);
}

/** The log file of attempt `attempt`: as recorded at its start, else `<attempt>.log` in the container's log dir. */
function logFileOf(ref: ContainerRef, attempt: number): string | undefined {
  try {
    const r = JSON.parse(fs.readFileSync(logRecord(ref), 'utf8')) as { attempt?: unknown; logFile?: unknown };
    if (r.attempt === attempt && typeof r.logFile === 'string' && path.isAbsolute(r.logFile)) return r.logFile;
  } catch {
    // no record (started by an older agent, or the pod's dir is gone)
  }
  return ref.logDir ? path.join(ref.logDir, `${attempt}.log`) : undefined;
}

/** The container driver over one engine. */
export class ContainerDriver implements Driver {
  /** One sandbox creation at a time per pod: two containers starting together must not make two. */
  private readonly sandboxes = new Map<string, Promise<Sandbox>>();

  constructor(
    readonly engine: Engine,
    private readonly log: Logger,
    /** The engine that answered and its version (`podman://4.3.1`, node status CONTAINER-RUNTIME), when known. */
    readonly found?: { info: EngineInfo; runtime: string },
  ) {}

  /** `<engine>://<version>` of the engine (node status), when known. */
  get runtime(): string | undefined {
    return this.found?.runtime;
  }

  /** The image by the container's pull policy (default from the reference, as on admission), with the pod's pull secrets. */
  pull(image: string, ctx: PullContext): Promise<string> {
    return ensureImage(this.engine, {
      image,
      policy: ctx.pullPolicy ?? defaultPullPolicy(image),
      auths: pullSecretAuths(ctx.namespace, ctx.imagePullSecrets ?? [], ctx.desired.secrets),
      event: ctx.event ?? (() => {}),
      ...(ctx.progress ? { progress: ctx.progress } : {}),
    });
  }

  podSandbox(pod: SandboxOwner, spec: SandboxSpec): Promise<Sandbox> {
    return spec.network === 'bridge' ? this.sandbox(pod, spec) : Promise.resolve({ id: '' });
  }

  /** The pod's running sandbox (made when missing); serialised per pod. */
  private sandbox(pod: SandboxOwner, spec: SandboxSpec): Promise<Sandbox> {
    const key = pod.podUid;
    const prev = this.sandboxes.get(key) ?? Promise.resolve(undefined);
    const next = prev.catch(() => undefined).then(() => ensureSandbox(this.engine, pod, spec));
    this.sandboxes.set(key, next);
    void next.finally(() => this.sandboxes.get(key) === next && this.sandboxes.delete(key)).catch(() => undefined);
    return next;
  }

  async start(spec: LaunchSpec): Promise<ContainerHandle> {
    const startedAt = new Date();
    if (!spec.image) return startError(startedAt, 'a container pod needs an image');
    // start runs what pull made available on this node (the contract's imageRef), never a pull of its own.
    if (!spec.imageRef) return startError(startedAt, `image "${spec.image}" was not pulled on this node`);
    const o = spec.oci ?? plainLaunch(spec);
    try {
      await writeLogRecord(spec);
      const owner = { podUid: spec.podUid, podName: spec.podName, namespace: spec.namespace, graceMs: spec.graceMs };
      const sandbox = o.sandbox.network === 'bridge' ? await this.sandbox(owner, o.sandbox) : undefined;
      await this.pruneAttempts(spec);
      const created = await this.engine.docker.createContainer(createOptions(this.engine, spec, o, spec.imageRef, sandbox?.id, startedAt));
      try {
        await created.start();
      } catch (err) {
        return startError(startedAt, engineMessage(err));
      }
      const i = await inspect(this.engine, created.id);
      if (!i?.State?.Running) {
        // Ended before it could be watched (a command that exits at once): its output is copied all the same.
        await new LogCopier(this.engine, created.id, spec.logFile).finish().catch(() => undefined);
        return { ...startError(startedAt, ''), exited: Promise.resolve(exitOf(i?.State, false)) };
      }
      return watchContainer(this.engine, created.id, i.State.Pid || undefined, startedAt, { watchOom: !!spec.limits?.memoryBytes, logFile: spec.logFile });
    } catch (err) {
      return startError(startedAt, engineMessage(err));
    }
  }

  /**
   * Before attempt N: removes this container's other attempts except N−1 (kept stopped, as the kubelet does),
   * and stops any that still runs — the runner believes none does, so such a one is a leftover (e.g. from an
   * adoption the engine did not answer), and two of one container must never run.
   */
  private async pruneAttempts(spec: LaunchSpec): Promise<void> {
    const mine = await listOwn(this.engine, { [L.podUid]: spec.podUid, [L.container]: spec.containerName, [L.role]: 'container' });
    for (const c of mine) {
      const l = readLabels(c.Labels);
      if (c.State === 'running' || !l || l.attempt !== spec.restartCount - 1) {
        if (c.State === 'running') this.log.warn(`pod ${spec.namespace}/${spec.podName}: container ${spec.containerName}: removing a leftover running container ${c.Id.slice(0, 12)} (attempt ${l?.attempt}) before attempt ${spec.restartCount}`);
        await removeContainer(this.engine, c.Id);
      }
    }
  }

  async adopt(ref: ContainerRef): Promise<Adoption> {
    let latest: { id: string; attempt: number; startedAt?: Date } | undefined;
    try {
      for (const c of await listOwn(this.engine, { [L.podUid]: ref.podUid, [L.container]: ref.containerName, [L.role]: 'container' })) {
        const l = readLabels(c.Labels);
        if (l && (!latest || l.attempt > latest.attempt)) latest = { id: c.Id, attempt: l.attempt, startedAt: l.startedAt };
      }
      if (!latest) return { kind: 'none' };
      const i = await inspect(this.engine, latest.id);
      if (!i) return { kind: 'none' };
      const startedAt = latest.startedAt ?? new Date(Date.parse(i.State?.StartedAt ?? '') || Date.now());
      const logFile = logFileOf(ref, latest.attempt);
      if (!i.State?.Running) {
        // Ended while no agent watched: copy the rest of its output now, as an agent that saw it end would have.
        if (logFile) await new LogCopier(this.engine, latest.id, logFile).finish().catch(() => undefined);
        const oom = (i.HostConfig?.Memory ?? 0) > 0 && i.State?.ExitCode === 137 && oomKillLogged(latest.id);
        return { kind: 'exited', restartCount: latest.attempt, startedAt, exit: exitOf(i.State, oom) };
      }
      const watchOom = (i.HostConfig?.Memory ?? 0) > 0;
      return { kind: 'running', restartCount: latest.attempt, handle: watchContainer(this.engine, latest.id, i.State.Pid || undefined, startedAt, { watchOom, logFile }) };
    } catch (err) {
      this.log.warn(`adopting ${ref.podUid}/${ref.containerName}: the engine did not answer (${engineMessage(err)}); starting afresh`);
      return { kind: 'none' };
    }
  }

  async reap(_podsDir: string, keep: ReadonlySet<string>, log: Logger): Promise<number> {
    const byPod = new Map<string, { id: string; running: boolean; graceMs: number; role: string; name: string }[]>();
    for (const c of await listOwn(this.engine)) {
      const l = readLabels(c.Labels);
      if (!l || keep.has(l.podUid)) continue;
      const list = byPod.get(l.podUid) ?? [];
      list.push({ id: c.Id, running: c.State === 'running', graceMs: l.graceMs, role: l.role, name: `${l.namespace}/${l.podName}` });
      byPod.set(l.podUid, list);
    }
    let stopped = 0;
    await Promise.all(
      [...byPod].map(async ([uid, list]) => {
        const running = list.filter((c) => c.running && c.role === 'container');
        if (running.length) log.info(`stopping ${running.length} container(s) of pod ${running[0].name}: it is no longer wanted on this node`);
        await Promise.all(running.map((c) => this.engine.docker.getContainer(c.id).stop({ t: Math.ceil(c.graceMs / 1000) }).catch(() => undefined)));
        stopped += running.length;
        await removePodContainers(this.engine, uid);
      }),
    );
    return stopped;
  }

  removePod(podUid: string): Promise<void> {
    return removePodContainers(this.engine, podUid);
  }

  /** The latest attempt of a container (for exec), or attempt `attempt`, by label. */
  async containerOf(ref: ContainerRef, attempt?: number): Promise<{ id: string; running: boolean } | undefined> {
    let best: { id: string; running: boolean; attempt: number } | undefined;
    for (const c of await listOwn(this.engine, { [L.podUid]: ref.podUid, [L.container]: ref.containerName, [L.role]: 'container' })) {
      const l = readLabels(c.Labels);
      if (!l || (attempt !== undefined && l.attempt !== attempt)) continue;
      if (!best || l.attempt > best.attempt) best = { id: c.Id, running: c.State === 'running', attempt: l.attempt };
    }
    return best;
  }

  /** A command inside the container's running attempt (the engine's exec: pipes or a TTY, stdin, resize). */
  async exec(target: ExecTarget, req: ExecRequest): Promise<ExecSession> {
    const c = await this.containerOf(target);
    if (!c?.running) throw new Error(`container "${target.containerName}" is not running`);
    return execIn(this.engine, c.id, req);
  }
}

/**
 * A pod is a sandbox (Kubernetes' RunPodSandbox): one network namespace, one IPC namespace, one hostname for all
 * of its containers, so they talk over localhost and share System V IPC. As the kubelet with Docker did, an
 * infra container holds the namespaces — here `/pause` from the agent's own `localhost/skiff-pause` image
 * (pause.ts) — and every container joins it (`NetworkMode`/`IpcMode: container:<infra id>`). The infra
 * container carries what is pod-wide: the published node ports of every containerPort, the resolver (the
 * agent's cluster DNS and search domains) and the hostname. A container restart never touches it, so the pod
 * keeps its address and ports; it goes when the pod does (`removePod`).
 *
 * With the host network (`network: host`: an agent without a pod network, docs/networking.md) there is no
 * sandbox: every container uses the node's network, as process pods do.
 */
import type Docker from 'dockerode';
import type { ContainerCreateOptions } from 'dockerode';
import { engineMessage, hasImage, inspect, listOwn, removeContainer, statusOf, type Engine } from './engine.js';
import { L, labelsFor } from './labels.js';
import { pauseImage, pauseTar } from './pause.js';
import type { SandboxSpec } from './types.js';

/** The pod a sandbox belongs to. */
export interface SandboxOwner {
  podUid: string;
  podName: string;
  namespace: string;
  graceMs: number;
}

/** A running sandbox. */
export interface Sandbox {
  id: string;
  /** The pod's address on the engine's network (bridge), if it has one. */
  ip?: string;
}

/**
 * Imports the pause image when the engine does not have it yet (once per engine and architecture). The import
 * is tagged afterwards by the id it reports: Podman's compat import ignores the `tag` parameter.
 */
export async function ensurePauseImage(e: Engine): Promise<string> {
  const image = pauseImage();
  if (await hasImage(e, image)) return image;
  const [repo, tag] = image.split(/:(?=[^:]*$)/);
  const stream = await e.docker.importImage((await pauseTar()) as unknown as NodeJS.ReadableStream, { repo, tag });
  const out = await new Promise<{ status?: string; error?: string }[]>((resolve, reject) =>
    e.docker.modem.followProgress(stream, (err: Error | null, res: { status?: string; error?: string }[]) => (err ? reject(err) : resolve(res ?? []))),
  );
  const failed = out.find((o) => o?.error)?.error;
  if (failed) throw new Error(`importing ${image}: ${failed}`);
  if (!(await hasImage(e, image))) {
    const id = [...out].reverse().map((o) => /(sha256:)?[0-9a-f]{64}/.exec(o?.status ?? '')?.[0]).find(Boolean);
    if (!id) throw new Error(`importing ${image}: the engine reported no image id`);
    await e.docker.getImage(id).tag({ repo, tag });
  }
  if (!(await hasImage(e, image))) throw new Error(`importing ${image} did not make the image`);
  return image;
}

/** The docker name of a pod's infra container: `skiff_POD_<name>_<namespace>_<uid>` (kubelet: `k8s_POD_...`). */
export function sandboxName(o: SandboxOwner): string {
  return `skiff_POD_${o.podName}_${o.namespace}_${o.podUid}`;
}

/** The infra container's create options. */
function sandboxOptions(e: Engine, o: SandboxOwner, spec: SandboxSpec, image: string): ContainerCreateOptions {
  const exposed: Record<string, object> = {};
  const bindings: Record<string, { HostPort: string }[]> = {};
  for (const p of spec.ports) {
    const key = `${p.containerPort}/${p.protocol.toLowerCase()}`;
    exposed[key] = {};
    (bindings[key] ??= []).push({ HostPort: String(p.hostPort) });
  }
  return {
    name: sandboxName(o),
    Image: image,
    Entrypoint: ['/pause'],
    Cmd: [],
    Hostname: spec.hostname,
    Labels: labelsFor({ node: e.node, podUid: o.podUid, podName: o.podName, namespace: o.namespace, role: 'sandbox', attempt: 0, graceMs: 0 }),
    StopSignal: 'SIGKILL', // /pause is PID 1 and handles no signal: TERM would only wait out the grace period
    ExposedPorts: exposed,
    HostConfig: {
      PortBindings: bindings,
      ...(spec.dns ? { Dns: spec.dns.servers, DnsSearch: spec.dns.searches, DnsOptions: spec.dns.options } : {}),
      IpcMode: 'shareable',
      RestartPolicy: { Name: 'no' },
    },
  };
}

/** The sandbox of a pod, running: the one there is, or a new one (a dead one is removed first). */
export async function ensureSandbox(e: Engine, o: SandboxOwner, spec: SandboxSpec): Promise<Sandbox> {
  const old = await listOwn(e, { [L.podUid]: o.podUid, [L.role]: 'sandbox' });
  const live = old.find((c) => c.State === 'running');
  if (live) return { id: live.Id, ip: ipOf(await inspect(e, live.Id)) };
  // A dead sandbox took the pod's network with it (its ports, its address): its containers go too (the engine
  // will not remove a sandbox others joined), and they start again in the new one, as the kubelet restarts a
  // pod whose sandbox died.
  if (old.length) await removePodContainers(e, o.podUid);
  const created = await createSandbox(e, o, spec);
  try {
    await created.start();
  } catch (err) {
    await removeContainer(e, created.id).catch(() => undefined);
    throw new Error(`the pod sandbox did not start: ${engineMessage(err)}`);
  }
  return { id: created.id, ip: ipOf(await inspect(e, created.id)) };
}

/**
 * Creates the infra container. The pause image was made at agent start; only when the engine says it is missing
 * (someone removed it) is it made again. A leftover of the same name that is not labelled as ours any more: the
 * name is the pod's, so it is taken.
 */
async function createSandbox(e: Engine, o: SandboxOwner, spec: SandboxSpec): Promise<Docker.Container> {
  const image = pauseImage();
  for (let tries = 0; ; tries++) {
    try {
      return await e.docker.createContainer(sandboxOptions(e, o, spec, image));
    } catch (err) {
      const s = statusOf(err);
      if (tries > 0 || (s !== 404 && s !== 409)) throw err;
      if (s === 404) await ensurePauseImage(e);
      else await removeContainer(e, sandboxName(o));
    }
  }
}

function ipOf(i: Awaited<ReturnType<typeof inspect>>): string | undefined {
  const direct = (i?.NetworkSettings as { IPAddress?: string } | undefined)?.IPAddress;
  if (direct) return direct;
  for (const n of Object.values(i?.NetworkSettings?.Networks ?? {})) if (n?.IPAddress) return n.IPAddress;
  return undefined;
}

/** Removes a pod's sandbox and every container of it (the pod is gone). */
export async function removePodContainers(e: Engine, podUid: string): Promise<void> {
  const all = await listOwn(e, { [L.podUid]: podUid });
  // Containers before their sandbox: a container still joined to its namespaces would keep them busy.
  for (const c of all.filter((x) => x.Labels?.[L.role] !== 'sandbox')) await removeContainer(e, c.Id);
  for (const c of all.filter((x) => x.Labels?.[L.role] === 'sandbox')) await removeContainer(e, c.Id);
}

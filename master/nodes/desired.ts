/**
 * The per-node desired sets: for every node, the pods bound to it (metadata and spec only) plus the
 * ConfigMaps and Secrets they reference, published retained on `nodes/{node}/desired` whenever that
 * set changes. The generation is the store revision at publish time, so it rises across master
 * restarts and an agent can ignore anything older than what it has.
 */
import { encode, topics, type ClaimVolume, type DesiredMessage, type KObject, type Node, type PersistentVolume, type PersistentVolumeClaim, type Pod, type Service } from '../../protocol/index.js';
import { claimsOf } from '../controllers/volumes/match.js';
import type { ControllerContext } from '../controllers/types.js';
import { isFinished, isTerminating } from '../controllers/pods.js';

/** Changes are gathered this long before publishing (a scale-up of 20 pods is one message). */
const debounceMs = 20;

/** The parts of a pod an agent needs. */
function forAgent(p: Pod): Pod {
  const { resourceVersion: _rv, generation: _g, ...metadata } = p.metadata;
  return { apiVersion: 'v1', kind: 'Pod', metadata, spec: p.spec };
}

/** ConfigMap and Secret names a pod reads (env, envFrom, volumes). */
function references(p: Pod): { configMaps: string[]; secrets: string[] } {
  const cms = new Set<string>();
  const secrets = new Set<string>();
  for (const c of p.spec.containers) {
    for (const e of c.env ?? []) {
      if (e.valueFrom?.configMapKeyRef) cms.add(e.valueFrom.configMapKeyRef.name);
      if (e.valueFrom?.secretKeyRef) secrets.add(e.valueFrom.secretKeyRef.name);
    }
    for (const e of c.envFrom ?? []) {
      if (e.configMapRef) cms.add(e.configMapRef.name);
      if (e.secretRef) secrets.add(e.secretRef.name);
    }
  }
  for (const v of p.spec.volumes ?? []) {
    if (v.configMap) cms.add(v.configMap.name);
    if (v.secret) secrets.add(v.secret.secretName);
  }
  return { configMaps: [...cms], secrets: [...secrets] };
}

/** Publishes desired sets; `publish` is the broker's. */
export class DesiredPublisher {
  private readonly dirty = new Set<string>();
  private readonly last = new Map<string, string>();
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly ctx: ControllerContext,
    private readonly publish: (topic: string, payload: Buffer, retain: boolean) => Promise<void>,
  ) {}

  /** Wires cache handlers and publishes every node's set once (the broker's retained store is new). */
  start(): void {
    const { informers } = this.ctx;
    informers.on('Pod', (p, old) => {
      for (const x of [p, old]) if (x?.spec?.nodeName) this.mark(x.spec.nodeName);
    });
    informers.on('Node', (n, old) => this.mark((n ?? old)!.metadata.name));
    for (const kind of ['ConfigMap', 'Secret', 'Service', 'PersistentVolumeClaim'])
      informers.on(kind, (o, old) => {
        const ns = (o ?? old)!.metadata.namespace;
        for (const p of informers.list<Pod>('Pod', ns)) if (p.spec.nodeName) this.mark(p.spec.nodeName);
      });
    // A volume bound or gone changes the sets of the nodes whose pods use its claim.
    informers.on('PersistentVolume', (v, old) => {
      const ref = ((v ?? old) as PersistentVolume).spec.claimRef;
      if (!ref) return;
      for (const p of informers.list<Pod>('Pod', ref.namespace)) if (p.spec.nodeName && claimsOf(p).includes(ref.name)) this.mark(p.spec.nodeName);
    });
  }

  stop(): void {
    clearTimeout(this.timer);
  }

  /** Marks a node's set for publishing soon. */
  mark(node: string): void {
    this.dirty.add(node);
    if (!this.timer) this.timer = setTimeout(() => void this.flush(), debounceMs);
  }

  /** Publishes every dirty node's set now. */
  async flush(): Promise<void> {
    this.timer = undefined;
    const nodes = [...this.dirty];
    this.dirty.clear();
    // One pass over the pods for all dirty nodes (a master restart marks every node): O(pods), not O(nodes × pods).
    const byNode = new Map<string, Pod[]>();
    for (const p of this.ctx.informers.list<Pod>('Pod')) {
      if (!p.spec.nodeName) continue;
      const list = byNode.get(p.spec.nodeName);
      if (list) list.push(p);
      else byNode.set(p.spec.nodeName, [p]);
    }
    await Promise.all(nodes.map((n) => this.publishNode(n, byNode.get(n) ?? []).catch((err) => this.ctx.log.error('publishing a desired set failed', { node: n, err }))));
  }

  /** The desired set of a node as it stands in the cache; `bound` is the pods bound to it, if already at hand. */
  desiredOf(node: string, bound?: Pod[]): Omit<DesiredMessage, 'generation'> {
    const { informers } = this.ctx;
    const all = bound ?? informers.list<Pod>('Pod').filter((p) => p.spec.nodeName === node);
    const pods = all.filter((p) => !isTerminating(p) && !isFinished(p)).sort((a, b) => a.metadata.uid!.localeCompare(b.metadata.uid!));
    // Pods that ran to the end keep their logs on the node until the pod object is deleted (kubectl logs of a Completed Job's pod).
    const keepLogs = all.filter((p) => isFinished(p)).map((p) => p.metadata.uid!).sort();
    const configMaps: Record<string, KObject> = {};
    const secrets: Record<string, KObject> = {};
    for (const p of pods) {
      const ns = p.metadata.namespace!;
      const refs = references(p);
      for (const name of refs.configMaps) {
        const o = informers.get('ConfigMap', ns, name);
        if (o) configMaps[`${ns}/${name}`] = o;
      }
      for (const name of refs.secrets) {
        const o = informers.get('Secret', ns, name);
        if (o) secrets[`${ns}/${name}`] = o;
      }
    }
    // {NAME}_SERVICE_HOST/PORT for the services of the pods' namespaces (Kubernetes: not for headless ones).
    const services: NonNullable<DesiredMessage['services']> = {};
    for (const ns of new Set(pods.map((p) => p.metadata.namespace!)))
      for (const s of informers.list<Service>('Service', ns))
        if (s.spec.clusterIP && s.spec.clusterIP !== 'None')
          services[`${ns}/${s.metadata.name}`] = { host: s.spec.clusterIP, ports: s.spec.ports.map((p) => ({ ...(p.name ? { name: p.name } : {}), port: p.port, protocol: p.protocol! })) };
    const volumes = this.volumesOf(pods);
    return { pods: pods.map(forAgent), configMaps, secrets, services, ...(Object.keys(volumes).length ? { volumes } : {}), ...(keepLogs.length ? { keepLogs } : {}) };
  }

  /** The directories of the volumes bound to the pods' claims (a claim not bound yet is left out: its pod waits). */
  private volumesOf(pods: Pod[]): Record<string, ClaimVolume> {
    const { informers } = this.ctx;
    const out: Record<string, ClaimVolume> = {};
    for (const p of pods)
      for (const name of claimsOf(p)) {
        const ns = p.metadata.namespace!;
        const claim = informers.get<PersistentVolumeClaim>('PersistentVolumeClaim', ns, name);
        if (!claim?.spec.volumeName || claim.status?.phase !== 'Bound') continue;
        const pv = informers.get<PersistentVolume>('PersistentVolume', undefined, claim.spec.volumeName);
        const path = pv?.spec.hostPath?.path ?? pv?.spec.local?.path;
        if (!pv || !path || pv.spec.claimRef?.uid !== claim.metadata.uid) continue;
        out[`${ns}/${name}`] = { volume: pv.metadata.name, path, type: pv.spec.local || pv.spec.hostPath?.type === 'Directory' ? 'Directory' : 'DirectoryOrCreate' };
      }
    return out;
  }

  private async publishNode(node: string, bound: Pod[]): Promise<void> {
    const { informers } = this.ctx;
    const n = informers.get<Node>('Node', undefined, node);
    if (!n) {
      // A deleted node: an empty set, so its agent stops everything if it is still running.
      if (this.last.delete(node)) await this.publish(topics.nodeDesired(node), encode({ generation: informers.revision, pods: [] } satisfies DesiredMessage), true);
      return;
    }
    const body = this.desiredOf(node, bound);
    const fingerprint = JSON.stringify(body);
    if (this.last.get(node) === fingerprint) return;
    this.last.set(node, fingerprint);
    const msg: DesiredMessage = { generation: informers.revision, ...body };
    await this.publish(topics.nodeDesired(node), encode(msg), true);
  }
}

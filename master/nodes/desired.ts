/**
 * The per-node desired sets: for every node, the pods bound to it (metadata and spec only) plus the
 * ConfigMaps and Secrets they reference, published retained on `nodes/{node}/desired` whenever that
 * set changes. The generation is the store revision at publish time, so it rises across master
 * restarts and an agent can ignore anything older than what it has.
 */
import { encode, topics, type ClaimVolume, type DesiredMessage, type DesiredResync, type KObject, type Pod } from '../../protocol/index.js';
import { parseModuleImage } from '../../protocol/wasi-image.js';
import { claimsOf } from '../controllers/volumes/match.js';
import type { ControllerContext } from '../controllers/types.js';
import { isFinished, isTerminating } from '../controllers/pods.js';
import { deltaOf, sentSet, setDigest, type SentSet } from './desired-delta.js';
import { podsByNode } from './pods-by-node.js';

/**
 * Throttle window: a change after a quiet spell is published on the next tick (a single pod's start does not
 * wait), changes within this long after a publish are gathered into the next one (a scale-up of 20 pods is a
 * message or two). Under load the window widens to twice what the last flush cost (up to a second): a rollout
 * binding a pod to every node per scheduler batch republished each node's set once per batch, and those
 * flushes were a tenth of the master's time at 10,000 pods (issue 16); now flushing takes at most about a third
 * of it, and each flush carries more changes.
 */
export function flushWindow(lastFlushCostMs: number): number {
  return Math.min(maxWindowMs, Math.max(minWindowMs, 2 * lastFlushCostMs));
}
const minWindowMs = 20;
const maxWindowMs = 1000;

/** What forAgent made of each cached pod (cache objects are immutable: a change is a new object). */
const agentViews = new WeakMap<Pod, Pod>();

/** The parts of a pod an agent needs: one object per cached pod, so its digest (desired-delta.ts) is computed once. */
function forAgent(p: Pod): Pod {
  let v = agentViews.get(p);
  if (!v) {
    const { resourceVersion: _rv, generation: _g, ...metadata } = p.metadata;
    v = { apiVersion: 'v1', kind: 'Pod', metadata, spec: p.spec };
    agentViews.set(p, v);
  }
  return v;
}

/**
 * The ConfigMaps and Secrets a pod reads, by name in its namespace — env valueFrom, envFrom, volumes (of every
 * container, init containers too), imagePullSecrets and a WASI module's configmap:// image — and the
 * PersistentVolumeClaims its volumes name (the node gets the directory of each claim's bound volume). This is the
 * Node authorizer's graph: a node is sent these objects of the pods bound to it and nothing else (no other path
 * gives a node any object: it has no API access, and its topics carry only its own desired set).
 */
export function references(p: Pod): { configMaps: string[]; secrets: string[]; claims: string[] } {
  const cms = new Set<string>();
  const secrets = new Set<string>();
  for (const c of [...(p.spec.initContainers ?? []), ...p.spec.containers]) {
    const module = p.spec.runtimeClassName === 'wasi' && c.image ? parseModuleImage(c.image) : undefined;
    if (module && 'kind' in module && module.kind === 'configmap') cms.add(module.name);
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
  for (const s of p.spec.imagePullSecrets ?? []) if (s?.name) secrets.add(s.name);
  return { configMaps: [...cms], secrets: [...secrets], claims: claimsOf(p) };
}

/** Publishes desired sets; `publish` is the broker's. */
export class DesiredPublisher {
  private readonly dirty = new Set<string>();
  /** Node → digest of the retained full set last published (setDigest). */
  private readonly last = new Map<string, string>();
  private timer?: NodeJS.Timeout;
  /** When the last flush started (ms since epoch). */
  private lastFlush = 0;
  /** How long the last flush kept the event loop (building and encoding the sets), ms. */
  private lastCost = 0;
  /** Nodes whose agent asked for deltas (resync), with what it was last sent; undefined: send the full set next. */
  private readonly sent = new Map<string, SentSet | undefined>();
  /** The retained full set last published to a node that has not asked for deltas yet. */
  private readonly retained = new Map<string, SentSet>();

  constructor(
    private readonly ctx: ControllerContext,
    private readonly publish: (topic: string, payload: Buffer, retain: boolean) => Promise<void>,
  ) {}

  /** Wires cache handlers and publishes every node's set once (the broker's retained store is new). */
  start(): void {
    const { informers } = this.ctx;
    podsByNode(informers); // wired before the handler below, so a flush always reads an index that saw the change
    informers.on('Pod', (p, old) => {
      for (const x of [p, old]) if (x?.spec?.nodeName) this.mark(x.spec.nodeName);
    });
    informers.on('Node', (_n, _old, node) => this.mark(node.metadata.name));
    for (const kind of ['ConfigMap', 'Secret', 'Service', 'PersistentVolumeClaim'])
      informers.on(kind, (_o, _old, o) => {
        const ns = o.metadata.namespace;
        for (const p of informers.list('Pod', ns)) if (p.spec.nodeName) this.mark(p.spec.nodeName);
      });
    // A volume bound or gone changes the sets of the nodes whose pods use its claim.
    informers.on('PersistentVolume', (_v, _old, pv) => {
      const ref = pv.spec.claimRef;
      if (!ref) return;
      for (const p of informers.list('Pod', ref.namespace)) if (p.spec.nodeName && claimsOf(p).includes(ref.name)) this.mark(p.spec.nodeName);
    });
  }

  stop(): void {
    clearTimeout(this.timer);
  }

  /**
   * An agent asks for the full set (it connected, or a delta did not follow the generation it holds): from now
   * on it gets deltas. The first time, the retained full set is cleared: a delta-reading agent asks on every
   * connect, and a stale retained set would only be ignored or undone.
   */
  async onResync(node: string, m: DesiredResync): Promise<void> {
    if (!Number.isSafeInteger(m?.generation)) throw new Error(`resync: generation: must be an integer, got ${JSON.stringify(m?.generation)}`);
    const first = !this.sent.has(node);
    // An agent that holds exactly what it was last sent (a reconnect, or the retained set it just read) gets the
    // changes since, not the whole set again.
    const held = this.sent.get(node) ?? this.retained.get(node);
    this.sent.set(node, held?.generation === m.generation ? held : undefined);
    this.retained.delete(node);
    if (first && this.last.delete(node)) await this.publish(topics.nodeDesired(node), Buffer.alloc(0), true);
    this.mark(node);
  }

  /** Marks a node's set for publishing soon. */
  mark(node: string): void {
    this.dirty.add(node);
    if (!this.timer) this.timer = setTimeout(() => void this.flush(), Math.max(0, this.lastFlush + flushWindow(this.lastCost) - Date.now()));
  }

  /** Publishes every dirty node's set now. */
  async flush(): Promise<void> {
    this.timer = undefined;
    this.lastFlush = Date.now();
    const nodes = [...this.dirty];
    this.dirty.clear();
    // Each dirty node's own pods from the index: a flush costs the pods of the nodes that changed, not all pods.
    const byNode = podsByNode(this.ctx.informers);
    const began = performance.now();
    const published = nodes.map((n) => this.publishNode(n, byNode.of(n)).catch((err) => this.ctx.log.error('publishing a desired set failed', { node: n, err })));
    this.lastCost = performance.now() - began; // each set is built and encoded before its first await
    await Promise.all(published);
  }

  /** The desired set of a node as it stands in the cache; `bound` is the pods bound to it, if already at hand. */
  desiredOf(node: string, bound?: Pod[]): Omit<DesiredMessage, 'generation'> {
    const { informers } = this.ctx;
    const all = bound ?? podsByNode(informers).of(node);
    const pods = all.filter((p) => !isTerminating(p) && !isFinished(p)).sort((a, b) => a.metadata.uid!.localeCompare(b.metadata.uid!));
    // Pods that ran to the end keep their logs on the node until the pod object is deleted (kubectl logs of a Completed Job's pod).
    const keepLogs = all.filter((p) => isFinished(p)).map((p) => p.metadata.uid!).sort();
    // Listed even when never sent to the node (bound and deleted within one debounce): only its agent can confirm.
    const terminating = all.filter((p) => isTerminating(p)).map((p) => p.metadata.uid!).sort();
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
      for (const s of informers.list('Service', ns))
        if (s.spec.clusterIP && s.spec.clusterIP !== 'None')
          services[`${ns}/${s.metadata.name}`] = { host: s.spec.clusterIP, ports: s.spec.ports.map((p) => ({ ...(p.name ? { name: p.name } : {}), port: p.port, protocol: p.protocol! })) };
    const volumes = this.volumesOf(pods);
    return {
      pods: pods.map(forAgent),
      configMaps,
      secrets,
      services,
      ...(Object.keys(volumes).length ? { volumes } : {}),
      ...(keepLogs.length ? { keepLogs } : {}),
      ...(terminating.length ? { terminating } : {}),
    };
  }

  /** The directories of the volumes bound to the pods' claims (a claim not bound yet is left out: its pod waits). */
  private volumesOf(pods: Pod[]): Record<string, ClaimVolume> {
    const { informers } = this.ctx;
    const out: Record<string, ClaimVolume> = {};
    for (const p of pods)
      for (const name of references(p).claims) {
        const ns = p.metadata.namespace!;
        const claim = informers.get('PersistentVolumeClaim', ns, name);
        if (!claim?.spec.volumeName || claim.status?.phase !== 'Bound') continue;
        const pv = informers.get('PersistentVolume', undefined, claim.spec.volumeName);
        const path = pv?.spec.hostPath?.path ?? pv?.spec.local?.path;
        if (!pv || !path || pv.spec.claimRef?.uid !== claim.metadata.uid) continue;
        out[`${ns}/${name}`] = { volume: pv.metadata.name, path, type: pv.spec.local || pv.spec.hostPath?.type === 'Directory' ? 'Directory' : 'DirectoryOrCreate' };
      }
    return out;
  }

  private async publishNode(node: string, bound: Pod[]): Promise<void> {
    const { informers } = this.ctx;
    const n = informers.get('Node', undefined, node);
    if (!n) {
      // A deleted node: an empty set, so its agent stops everything if it is still running.
      const known = [this.last.delete(node), this.sent.delete(node), this.retained.delete(node)].includes(true);
      if (known) await this.publish(topics.nodeDesired(node), encode({ generation: informers.revision, pods: [] } satisfies DesiredMessage), true);
      return;
    }
    const body = this.desiredOf(node, bound);
    if (this.sent.has(node)) return this.publishDelta(node, body, informers.revision);
    const set = sentSet(informers.revision, body);
    const fingerprint = setDigest(set);
    if (this.last.get(node) === fingerprint) return;
    this.last.set(node, fingerprint);
    const msg: DesiredMessage = { generation: informers.revision, ...body, deltas: true };
    this.retained.set(node, set);
    await this.publish(topics.nodeDesired(node), encode(msg), true);
  }

  // To an agent that reads deltas: what changed since the last message, or the full set (not retained) when it
  // asked for one or the generation did not move (a delta needs generation > base).
  private async publishDelta(node: string, body: Omit<DesiredMessage, 'generation'>, generation: number): Promise<void> {
    const sent = this.sent.get(node);
    if (sent && generation > sent.generation) {
      const delta = deltaOf(sent, body, generation);
      if (!delta) return;
      this.sent.set(node, sentSet(generation, body));
      return this.publish(topics.nodeDesired(node), encode(delta), false);
    }
    if (sent && !deltaOf(sent, body, generation)) return;
    this.sent.set(node, sentSet(generation, body));
    await this.publish(topics.nodeDesired(node), encode({ generation, ...body, deltas: true } satisfies DesiredMessage), false);
  }
}

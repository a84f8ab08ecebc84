/**
 * The per-node desired sets: for every node, the pods bound to it (metadata and spec only) plus the
 * ConfigMaps and Secrets they reference, published retained on `nodes/{node}/desired` whenever that
 * set changes. The generation is the store revision at publish time, so it rises across master
 * restarts and an agent can ignore anything older than what it has.
 */
import { encode, topics, type ClaimVolume, type DesiredMessage, type DesiredResync, type KObject, type Pod, type Service } from '../../protocol/index.js';
import { claimsOf } from '../controllers/volumes/match.js';
import { sliceMs } from '../controllers/batch.js';
import { loopBudget } from '../loop-budget.js';
import type { ControllerContext } from '../controllers/types.js';
import { isFinished, isTerminating } from '../controllers/pods.js';
import { advance, deltaOf, sentSet, setDigest, type SentSet } from './desired-delta.js';
import { carryView, forAgent, references } from './desired-view.js';
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

type ServiceEntry = NonNullable<DesiredMessage['services']>[string];
const serviceEntries = new WeakMap<Service, ServiceEntry>();

/** A Service as a node's set holds it, one object per cached Service (so its digest is computed once, not per flush). */
function serviceEntry(s: Service): ServiceEntry {
  let e = serviceEntries.get(s);
  if (!e) {
    e = { host: s.spec.clusterIP!, ports: s.spec.ports.map((p) => ({ ...(p.name ? { name: p.name } : {}), port: p.port, protocol: p.protocol! })) };
    serviceEntries.set(s, e);
  }
  return e;
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

  /** The flushes asked for, one after another (a flush that yields is not overtaken by the next). */
  private flushes: Promise<void> = Promise.resolve();
  /** The flush asked for that has not started yet (asking again joins it). */
  private waiting?: Promise<void>;
  private stopped = false;

  constructor(
    private readonly ctx: ControllerContext,
    private readonly publish: (topic: string, payload: Buffer, retain: boolean) => Promise<void>,
    /** How long a flush may hold the event loop before it lets I/O in (ms; tests lower it). */
    private readonly flushSliceMs = sliceMs,
  ) {}

  /** Wires cache handlers and publishes every node's set once (the broker's retained store is new). */
  start(): void {
    const { informers } = this.ctx;
    podsByNode(informers); // wired before the handler below, so a flush always reads an index that saw the change
    informers.on('Pod', (p, old) => {
      if (!p?.spec?.nodeName && !old?.spec?.nodeName) return; // bound to no node: in no set
      // A status-only write (the agent's reports, most writes of a rollout) leaves its node's set as it was.
      if (p && old && carryView(p, old)) return;
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
    this.stopped = true;
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

  /**
   * Publishes every dirty node's set now (after a flush still running; callers meanwhile share the one that waits),
   * nodes marked meanwhile included. A flush runs in turns of the check phase (setImmediate), each at most
   * `flushSliceMs` and what the iteration's shared budget leaves (../loop-budget.ts), and goes on with the next node: a rollout
   * dirties every node at once, and building a thousand sets in one go stalled the loop for 100 ms and more
   * (issue 16). Each node's set is built and its message handed to the broker in one go, so a node's messages
   * keep their order and each delta's base is the generation sent before it.
   */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    // One waits at most behind the running one: it will publish whatever is dirty when it starts.
    if (this.waiting) return this.waiting;
    const built = this.flushes.then(() => {
      this.waiting = undefined;
      return this.flushDirty();
    });
    // The next flush waits for this one's sets to be built and handed to the broker, not for the broker to be done
    // with them (a slow subscriber must not hold every node's next set back).
    this.flushes = built.then(
      () => undefined,
      () => undefined,
    );
    const run = built.then(async (published) => void (await Promise.all(published)));
    this.waiting = run;
    return run;
  }

  /** Builds and hands over every dirty node's set; resolves to the broker's promises of them. */
  private async flushDirty(): Promise<Promise<void>[]> {
    this.lastFlush = Date.now();
    // Each dirty node's own pods from the index: a flush costs the pods of the nodes that changed, not all pods.
    const byNode = podsByNode(this.ctx.informers);
    const published: Promise<void>[] = [];
    let cost = 0;
    let began = performance.now();
    // Built in the check phase's turns, within the iteration's shared budget (../loop-budget.ts): the first slice too
    // (the flush's timer fires in the timers phase, where a slice would add to an iteration the budget cannot see).
    let allowed = 0;
    for (const n of [...this.dirty]) {
      if (this.stopped) break;
      if (performance.now() - began >= allowed || loopBudget.interrupted()) {
        cost += performance.now() - began;
        await new Promise((resolve) => setImmediate(resolve));
        began = performance.now();
        allowed = loopBudget.turn('desired', this.flushSliceMs);
      }
      // Marked again while this flush yielded: published now, with what the cache holds now.
      if (!this.dirty.delete(n)) continue;
      published.push(this.publishNode(n, byNode.of(n)).catch((err) => this.ctx.log.error('publishing a desired set failed', { node: n, err })));
    }
    this.lastCost = cost + performance.now() - began; // each set is built and encoded before its first await
    return published;
  }

  /** The desired set of a node as it stands in the cache; `bound` is the pods bound to it, if already at hand. */
  desiredOf(node: string, bound?: Pod[]): Omit<DesiredMessage, 'generation'> {
    const { informers } = this.ctx;
    const all = bound ?? podsByNode(informers).of(node);
    const pods = all.filter((p) => !isTerminating(p) && !isFinished(p)).map(forAgent); // in no particular order: the agent keys them by uid
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
          services[`${ns}/${s.metadata.name}`] = serviceEntry(s);
    const volumes = this.volumesOf(pods);
    return {
      pods,
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
      const delta = advance(sent, body, generation);
      return delta && this.publish(topics.nodeDesired(node), encode(delta), false);
    }
    if (sent && !deltaOf(sent, body, generation)) return;
    this.sent.set(node, sentSet(generation, body));
    await this.publish(topics.nodeDesired(node), encode({ generation, ...body, deltas: true } satisfies DesiredMessage), false);
  }
}

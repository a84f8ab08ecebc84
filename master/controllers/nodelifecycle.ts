/**
 * Node lifecycle (Kubernetes' node lifecycle controller and taint manager, at edge speed):
 * - a node whose Ready condition is not True gets the `node.skiff.io/unreachable:NoExecute` taint
 *   (with timeAdded), removed again when it is Ready;
 * - pods on a node with NoExecute taints they do not tolerate are evicted at once; pods tolerating
 *   with `tolerationSeconds` are evicted when that runs out. Every pod tolerates the unreachable taint
 *   for `podEvictionTimeoutMs` (30 s) unless it says otherwise — Kubernetes' DefaultTolerationSeconds
 *   admission does the same with 300 s;
 * - an evicted pod on an unreachable node is removed at once (its agent cannot confirm; when it comes
 *   back its desired set no longer has the pod and it stops it), so the ReplicaSet replaces it;
 * - a terminating pod on a node that is not Ready is removed after its grace period.
 * `sync(node)` does all of this for one node and the pods bound to it (a node name with no Node object
 * left: its pods are removed). A node is synced when it changes, and each tick while it needs watching —
 * not Ready, tainted NoExecute, or gone with pods left — since taint times run out without any object
 * changing (`needsTick`); a Ready node without NoExecute taints has nothing that runs out, so 1,000 healthy
 * nodes cost no syncs per tick (issue 16, idle CPU). Pods are found through an index by node name
 * (nodes/pods-by-node.ts), so a sync costs the node's pods, not the cluster's.
 *
 * Disruption (Kubernetes' zone states): when most nodes are not Ready at once (`disrupted`), it is far likelier
 * that the master or its network is at fault than that the boards all died together, so no node is tainted and no
 * pod evicted until fewer are; taints added afterwards count their time from then (as Kubernetes, which stops
 * evicting in full disruption and in partial disruption of a small cluster).
 */
import { tolerates } from '../../core-wasm/index.js';
import { isReady, readyCondition, type Node, type Pod, type Taint } from '../../protocol/index.js';
import { isoNow, realClock } from '../clock.js';
import { podsByNode } from '../nodes/pods-by-node.js';
import { NEVER_UPDATED } from '../nodes/status.js';
import { WorkQueue } from './queue.js';
import { isFinished } from './pods.js';
import type { ControllerContext, SyncController } from './types.js';

/** The taint of a node that stopped reporting. */
export const unreachableTaint = 'node.skiff.io/unreachable';

/** How often the controller looks at nodes and pods (taint times are in seconds). */
const tickMs = 500;

/** Kubernetes' --unhealthy-zone-threshold: the share of not-Ready nodes above which a zone counts as disrupted. */
export const unhealthyThreshold = 0.55;
/** ... and at least this many not Ready (Kubernetes: 2; 3 here, so a two-board cluster losing one still evicts). */
export const unhealthyMinimum = 3;

/** True when `notReady` of `total` nodes are too many to blame on the nodes: taints and evictions wait. */
export function disrupted(total: number, notReady: number): boolean {
  return notReady >= unhealthyMinimum && notReady / total > unhealthyThreshold;
}

/**
 * When a pod must leave a node with these NoExecute taints: 0 = now, Infinity = never, else ms since
 * epoch. The default toleration for the unreachable taint applies when the pod has none of its own.
 * A taint without timeAdded counts from `now`.
 */
export function evictionTime(pod: Pod, taints: Taint[], defaultTolerationMs: number, now: number): number {
  let at = Infinity;
  for (const taint of taints) {
    if (taint.effect !== 'NoExecute') continue;
    const since = taint.timeAdded ? Date.parse(taint.timeAdded) : now;
    const own = (pod.spec.tolerations ?? []).filter((t) => tolerates(t, taint));
    if (own.length === 0) {
      if (taint.key !== unreachableTaint) return 0;
      at = Math.min(at, since + defaultTolerationMs);
      continue;
    }
    // The shortest tolerationSeconds among matching tolerations wins; none means forever.
    const secs = own.map((t) => t.tolerationSeconds).filter((s): s is number => s !== undefined);
    if (secs.length > 0) at = Math.min(at, since + Math.max(0, Math.min(...secs)) * 1000);
  }
  return at;
}

/**
 * True when something about `n`'s pods can come due with time alone: it is not Ready (terminating pods' grace,
 * the unreachable taint's toleration) or has NoExecute taints (tolerationSeconds). A Ready node without such
 * taints evicts nothing and finishes no deletion, whatever time it is.
 */
export function needsTick(n: Node): boolean {
  return !isReady(n) || (n.spec?.taints?.some((t) => t.effect === 'NoExecute') ?? false);
}

/** Counts as not Ready for the disruption rule: a node that joined and never reported does not (NEVER_UPDATED). */
export function countsNotReady(n: Node): boolean {
  return !isReady(n) && readyCondition(n)?.reason !== NEVER_UPDATED;
}

/**
 * The taints that evict from `n`: a Ready node's unreachable taint is on its way off (syncTaint), and counts for
 * nothing — else a node back after a disruption, whose taint outlived its pods' toleration while evictions were
 * held, lost every pod the moment it was reachable again (Kubernetes' taint manager cancels the evictions).
 */
export function evictingTaints(n: Node): Taint[] {
  const taints = n.spec?.taints ?? [];
  return isReady(n) ? taints.filter((t) => t.key !== unreachableTaint) : taints;
}

/** Starts the node lifecycle controller. */
export function startNodeLifecycleController(ctx: ControllerContext, opts: { podEvictionTimeoutMs: number }): SyncController {
  const { informers, objects, events } = ctx;
  const clock = ctx.clock ?? realClock;
  const queue = new WorkQueue('node-lifecycle', sync, ctx.log, clock);
  const byNode = podsByNode(informers);
  let paused = false;

  // Kept up to date from the cache's events, so a tick costs the nodes that need it, not a pass over every node
  // (issue 16, idle CPU): how many nodes there are and how many count as not Ready (the disruption rule), and
  // which nodes need a tick (needsTick).
  const tally = { nodes: 0, notReady: 0 };
  const watched = new Set<string>();
  const count = (n: Node | undefined, by: 1 | -1) => {
    if (!n) return;
    tally.nodes += by;
    if (countsNotReady(n)) tally.notReady += by;
  };
  const follow = (n: Node | undefined, old: Node | undefined, latest: Node) => {
    count(old, -1);
    count(n, 1);
    if (n && needsTick(n)) watched.add(latest.metadata.name);
    else watched.delete(latest.metadata.name);
  };
  for (const n of informers.list('Node')) follow(n, undefined, n);
  informers.on('Node', (n, old, node) => {
    follow(n as Node | undefined, old as Node | undefined, node as Node);
    queue.add(node.metadata.name);
  });
  // A pod bound (or changed) on a node that is being watched is looked at on the next tick; on any other node
  // nothing can be due (needsTick).
  const timer = clock.every(tickMs, () => {
    updateDisruption();
    for (const name of watched) queue.add(name);
    // Node names pods are bound to without a Node object (deleted): their pods must go too.
    for (const name of byNode.nodes()) if (!informers.get('Node', undefined, name)) queue.add(name);
  });

  /** Enters or leaves the disrupted state (logged once each way). */
  function updateDisruption(): void {
    const { nodes, notReady } = tally;
    const now = disrupted(nodes, notReady);
    if (now === paused) return;
    paused = now;
    if (now) ctx.log.warn('most nodes are not Ready at once: not tainting or evicting until fewer are (disruption)', { notReady, nodes });
    else ctx.log.info('the disruption is over: tainting and evicting again', { notReady, nodes });
  }

  async function sync(name: string): Promise<void> {
    const node = informers.get('Node', undefined, name);
    if (node) await syncTaint(node);
    if (node && !needsTick(node)) return; // nothing on a Ready, untainted node runs out (needsTick)
    const now = clock.now();
    for (const bound of byNode.of(name)) {
      const p = informers.get('Pod', bound.metadata.namespace, bound.metadata.name); // as it is now: earlier syncs wrote
      if (p && p.spec.nodeName === name && !isFinished(p)) await syncPod(p, node, now);
    }
  }

  /** Taints a node that is not Ready with the unreachable taint; untaints it once Ready. */
  async function syncTaint(n: Node): Promise<void> {
    const name = n.metadata.name;
    const tainted = n.spec?.taints?.some((t) => t.key === unreachableTaint) ?? false;
    // A node that joined and never reported was never reachable: nothing to evict, nothing to taint.
    const neverReported = readyCondition(n)?.reason === NEVER_UPDATED;
    if (!isReady(n) && !tainted && !neverReported && !paused) {
      await objects.mutate('Node', undefined, name, (cur) => {
        if (isReady(cur) || cur.spec?.taints?.some((t) => t.key === unreachableTaint)) return undefined;
        cur.spec = { ...(cur.spec ?? {}), taints: [...(cur.spec?.taints ?? []), { key: unreachableTaint, effect: 'NoExecute', timeAdded: isoNow(clock) }] };
        return cur;
      });
      events.object('Node', undefined, name, 'Warning', 'NodeUnreachable', `Node ${name} is unreachable: tainted ${unreachableTaint}:NoExecute`);
    } else if (isReady(n) && tainted) {
      await objects.mutate('Node', undefined, name, (cur) => {
        if (!isReady(cur)) return undefined;
        const taints = (cur.spec?.taints ?? []).filter((t) => t.key !== unreachableTaint);
        cur.spec = { ...(cur.spec ?? {}), taints };
        if (taints.length === 0) delete cur.spec.taints;
        return cur;
      });
      events.object('Node', undefined, name, 'Normal', 'NodeReachable', `Node ${name} is Ready again`);
    }
  }

  /** Removes or evicts one pod bound to `node` when its time has come. */
  async function syncPod(p: Pod, node: Node | undefined, now: number): Promise<void> {
    if (!node) {
      // The node object is gone (deleted): nothing will ever run or confirm this pod there.
      await objects.finishPodDeletion(p.metadata.namespace!, p.metadata.name, p.metadata.uid);
      return;
    }
    if (p.metadata.deletionTimestamp) {
      const grace = (p.spec.terminationGracePeriodSeconds ?? 30) * 1000;
      if (!isReady(node) && Date.parse(p.metadata.deletionTimestamp) + grace <= now)
        await objects.finishPodDeletion(p.metadata.namespace!, p.metadata.name, p.metadata.uid);
      return;
    }
    const at = evictionTime(p, evictingTaints(node), opts.podEvictionTimeoutMs, now);
    if (at > now || (paused && !isReady(node))) return;
    events.object('Pod', p.metadata.namespace, p.metadata.name, 'Warning', 'TaintManagerEviction', `Evicting pod ${p.metadata.namespace}/${p.metadata.name} from ${node.metadata.name}`);
    if (isReady(node)) await objects.delete('Pod', p.metadata.namespace, p.metadata.name).catch(() => undefined);
    else await objects.finishPodDeletion(p.metadata.namespace!, p.metadata.name, p.metadata.uid);
  }

  return {
    name: 'node-lifecycle',
    sync,
    idle: () => queue.idle(),
    stop() {
      timer.cancel();
      queue.stop();
    },
  };
}

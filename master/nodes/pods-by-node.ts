/**
 * The pods bound to each node, kept from the pod cache's change events (client-go's indexer on
 * `spec.nodeName`): a node's agent report, desired set or lifecycle sync reads that node's pods, not every
 * pod in the cluster (issue 16: with 20,000 pods each `gone` report and each desired-set flush scanned
 * them all). One index per cache, shared by every reader (`podsByNode`); it holds the cache's own objects,
 * no copies.
 */
import type { Pod } from '../../protocol/index.js';
import { keyOf, type Informers } from '../informer.js';

/** Pods by the node they are bound to, finished ones included (readers filter what they need). */
export class PodsByNode {
  private readonly index = new Map<string, Map<string, Pod>>();

  /** Moves a pod from where `old` was bound to where `pod` is (either may be absent: added, deleted). */
  update(pod: Pod | undefined, old: Pod | undefined): void {
    if (old?.spec.nodeName) this.drop(old.spec.nodeName, keyOf(old));
    const node = pod?.spec.nodeName;
    if (!pod || !node) return;
    let pods = this.index.get(node);
    if (!pods) this.index.set(node, (pods = new Map()));
    pods.set(keyOf(pod), pod);
  }

  private drop(node: string, key: string): void {
    const pods = this.index.get(node);
    if (!pods) return;
    pods.delete(key);
    if (pods.size === 0) this.index.delete(node);
  }

  /** Node names with at least one pod bound. */
  nodes(): IterableIterator<string> {
    return this.index.keys();
  }

  /** The pods bound to `node` now (a copy: callers may write meanwhile). */
  of(node: string): Pod[] {
    const pods = this.index.get(node);
    return pods ? [...pods.values()] : [];
  }

  /** How many pods are bound to `node`. */
  count(node: string): number {
    return this.index.get(node)?.size ?? 0;
  }
}

const shared = new WeakMap<Informers, PodsByNode>();

/** The index of `informers`' pods by node, made (and wired to the cache) on first use. */
export function podsByNode(informers: Informers): PodsByNode {
  let index = shared.get(informers);
  if (!index) {
    const made = new PodsByNode();
    shared.set(informers, made);
    informers.on('Pod', (pod, old) => made.update(pod, old));
    index = made;
  }
  return index;
}

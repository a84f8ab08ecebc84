/**
 * The recent changes of one kind, kept so that a watch can start from a resourceVersion (Kubernetes' watch cache):
 * a client lists (the list says the revision it reflects), then watches from that revision and gets every change
 * after it exactly once — none lost in between, none replayed. The window is bounded by count; a watch from before
 * what it still holds is refused (SKIFF_ERR_GONE, Kubernetes' 410 "too old resource version") and the client lists
 * again.
 */
import type { KObject } from '../protocol/index.js';

/** One change as a watch sends it; `revision` is the store revision of the write (a deleted object carries it too). */
export interface Change {
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  object: KObject;
  revision: number;
}

/** Receives changes in revision order. */
export type ChangeListener = (change: Change) => void;

/** The last `capacity` changes of a kind. */
export class ChangeWindow {
  private changes: (Change | undefined)[] = [];
  private head = 0;

  constructor(
    private readonly capacity: number,
    /** Every change with a revision above this one is in the window (at first: the revision of the list the cache was filled from). */
    public floor: number,
  ) {}

  /** Appends a change (revisions never go down); the oldest leaves past the capacity, and the floor rises to it. */
  add(change: Change): void {
    this.changes.push(change);
    if (this.changes.length - this.head <= this.capacity) return;
    this.floor = Math.max(this.floor, this.changes[this.head]!.revision);
    this.changes[this.head++] = undefined;
    // Compacted when half is gone: amortised O(1) per change, as the API's stream backlog.
    if (this.head * 2 > this.changes.length) (this.changes = this.changes.slice(this.head)), (this.head = 0);
  }

  /** The changes after `revision`, oldest first; undefined when some of them already left the window. */
  since(revision: number): Change[] | undefined {
    if (revision < this.floor) return undefined;
    // The first change above `revision` (binary search: revisions are in order).
    let lo = this.head;
    let hi = this.changes.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.changes[mid]!.revision <= revision) lo = mid + 1;
      else hi = mid;
    }
    return this.changes.slice(lo) as Change[];
  }

  /** Forgets every change: the cache was filled again from a list at `floor` (its changes are not known one by one). */
  reset(floor: number): void {
    this.changes = [];
    this.head = 0;
    this.floor = floor;
  }
}

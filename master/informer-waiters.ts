/**
 * The callers of `Informers.waitForRevision` (informer.ts) that the cache has not caught up with yet, kept in order
 * of the revision they wait for. The cache releases them on every change it applies — tens of thousands of times a
 * second in a rollout — so a change that releases no one costs one comparison, not a pass over every waiter, and one
 * that releases k of them costs k.
 */

interface Waiter {
  revision: number;
  resolve: () => void;
  timer: NodeJS.Timeout;
}

/** Waiters for store revisions, resolved in revision order (equal revisions in the order they began waiting). */
export class RevisionWaiters {
  /** Sorted by revision; `head` is the first one still waiting. */
  private queue: Waiter[] = [];
  private head = 0;

  /** How many are waiting. */
  get size(): number {
    return this.queue.length - this.head;
  }

  /** Resolves when `release` reaches `revision`, or after `timeoutMs` (the timer does not hold the process open). */
  wait(revision: number, timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const w: Waiter = {
        revision,
        resolve,
        timer: setTimeout(() => {
          this.remove(w);
          resolve();
        }, timeoutMs).unref(),
      };
      this.insert(w);
    });
  }

  /** Resolves every waiter for `revision` or an earlier one. */
  release(revision: number): void {
    const q = this.queue;
    if (this.head === q.length || q[this.head]!.revision > revision) return;
    while (this.head < q.length && q[this.head]!.revision <= revision) {
      const w = q[this.head]!;
      q[this.head++] = undefined!; // let it go now, not at the next compaction
      clearTimeout(w.timer);
      w.resolve();
    }
    if (this.head === q.length) {
      this.queue = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > q.length) {
      this.queue = q.slice(this.head);
      this.head = 0;
    }
  }

  // After the last waiter with a revision ≤ w's (binary search; most waiters arrive in revision order: at the end).
  private insert(w: Waiter): void {
    const q = this.queue;
    let lo = this.head;
    let hi = q.length;
    if (hi === lo || q[hi - 1]!.revision <= w.revision) return void q.push(w);
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (q[mid]!.revision <= w.revision) lo = mid + 1;
      else hi = mid;
    }
    q.splice(lo, 0, w);
  }

  private remove(w: Waiter): void {
    const i = this.queue.indexOf(w, this.head);
    if (i >= 0) this.queue.splice(i, 1);
  }
}

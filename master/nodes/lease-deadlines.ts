/**
 * When each node's silence must next be looked at: a min-heap of (deadline, node), so the lease check costs the
 * nodes whose grace may have run out, not every node every second (issue 16, idle CPU: 1,000 Ready nodes were
 * scanned each second). A lease does not touch the heap: it only moves the node's last-heard time; when the node's
 * deadline comes, the check finds it heard since and arms it again from that time. So a node costs one heap entry
 * per grace period, however often it leases.
 *
 * At most one live entry per node (`armed`); arming it earlier leaves the later entry stale, skipped when popped.
 */
export class LeaseDeadlines {
  private readonly heap: { at: number; node: string }[] = [];
  /** node → the deadline of its live entry. */
  private readonly armed = new Map<string, number>();

  /** Nodes armed now. */
  get size(): number {
    return this.armed.size;
  }

  /** True when `node` has a live deadline. */
  has(node: string): boolean {
    return this.armed.has(node);
  }

  /** Looks at `node` at `at` (ms), unless it is already due to be looked at no later. */
  arm(node: string, at: number): void {
    const cur = this.armed.get(node);
    if (cur !== undefined && cur <= at) return;
    this.armed.set(node, at);
    this.push({ at, node });
  }

  /** Forgets `node` (deleted): its entry is skipped when popped. */
  disarm(node: string): void {
    this.armed.delete(node);
  }

  /** Removes and returns the nodes whose deadline is at or before `now` (each disarmed; re-arm those still watched). */
  due(now: number): string[] {
    const out: string[] = [];
    while (this.heap.length && this.heap[0].at <= now) {
      const { at, node } = this.pop()!;
      if (this.armed.get(node) !== at) continue; // stale: re-armed earlier, or disarmed
      this.armed.delete(node);
      out.push(node);
    }
    return out;
  }

  private push(e: { at: number; node: string }): void {
    const h = this.heap;
    h.push(e);
    for (let i = h.length - 1; i > 0; ) {
      const p = (i - 1) >> 1;
      if (h[p].at <= h[i].at) break;
      [h[p], h[i]] = [h[i], h[p]];
      i = p;
    }
  }

  private pop(): { at: number; node: string } | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (h.length && last) {
      h[0] = last;
      for (let i = 0; ; ) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && h[l].at < h[m].at) m = l;
        if (r < h.length && h[r].at < h[m].at) m = r;
        if (m === i) break;
        [h[m], h[i]] = [h[i], h[m]];
        i = m;
      }
    }
    return top;
  }
}

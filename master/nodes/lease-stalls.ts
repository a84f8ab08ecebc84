/**
 * Time the master itself could not listen: how late each lease check ran (a check due every second that runs
 * 4 s late means the event loop was blocked ~4 s, and no lease could be read meanwhile). A node's grace is
 * extended by the stalls since it was last heard, so a master that falls behind never blames its nodes (issue 16:
 * 1,000 nodes marked NotReady at once while their leases waited in the master's own queue).
 */
export class StallLedger {
  /** [when the stall ended, how long it was], oldest first, kept for `keepMs`. */
  private readonly stalls: [number, number][] = [];

  constructor(private readonly keepMs: number) {}

  /** A check ran at `now` that was due at `due`. */
  record(due: number, now: number): void {
    const late = now - due;
    if (late > 0) this.stalls.push([now, late]);
    while (this.stalls.length && this.stalls[0][0] < now - this.keepMs) this.stalls.shift();
  }

  /** How long the master was stalled after `since`. */
  since(since: number): number {
    let ms = 0;
    for (const [at, late] of this.stalls) if (at > since) ms += late;
    return ms;
  }
}

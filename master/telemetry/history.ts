/**
 * The last hour of each node's cpu and memory, for the dashboard's charts: a fixed ring per node of
 * 240 slots of 15 s (the latest sample of a slot wins), so memory is bounded by the number of nodes
 * (≈ 6 KiB a node) whatever the agents' sampling interval.
 */

/** Slot width: 15 s. */
export const slotMs = 15_000;
/** Slots kept: one hour. */
export const slots = 240;
/** Nodes tracked at most; the one not heard from the longest is forgotten first. */
const maxNodes = 2000;

/** One point of a node's series. */
export interface NodePoint {
  /** ms since epoch (the master's clock when the sample arrived). */
  t: number;
  cpuMilli: number;
  memoryBytes: number;
}

/** One node's ring: t, cpu and memory per slot (t 0 = empty). */
class Ring {
  readonly t = new Float64Array(slots);
  readonly cpu = new Float64Array(slots);
  readonly mem = new Float64Array(slots);
}

/** Rings by node name. */
export class NodeHistory {
  private readonly rings = new Map<string, Ring>();

  /** Records a sample taken at `t`. */
  record(node: string, t: number, cpuMilli: number, memoryBytes: number): void {
    let r = this.rings.get(node);
    if (r) this.rings.delete(node);
    else r = new Ring();
    this.rings.set(node, r);
    if (this.rings.size > maxNodes) this.rings.delete(this.rings.keys().next().value as string);
    const i = Math.floor(t / slotMs) % slots;
    r.t[i] = t;
    r.cpu[i] = cpuMilli;
    r.mem[i] = memoryBytes;
  }

  /** The points of the last hour before `now`, oldest first. */
  series(node: string, now = Date.now()): NodePoint[] {
    const r = this.rings.get(node);
    if (!r) return [];
    const out: NodePoint[] = [];
    for (let i = 0; i < slots; i++) if (r.t[i] > now - slots * slotMs && r.t[i] <= now) out.push({ t: r.t[i], cpuMilli: r.cpu[i], memoryBytes: r.mem[i] });
    return out.sort((a, b) => a.t - b.t);
  }

  /** Forgets a node (deleted). */
  forget(node: string): void {
    this.rings.delete(node);
  }
}

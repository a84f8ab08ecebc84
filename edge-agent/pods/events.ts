/**
 * Events the agent observed about its pods (kubelet's: Started, BackOff, Killing, Unhealthy, Failed, and
 * the pull reasons once the container driver pulls), waiting to ride on the next pods report. Repeats
 * are folded into one entry with a count, and at most `max` distinct entries wait — while the master is
 * unreachable the oldest go first — so a crash-looping pod on a board offline for a day costs a few KiB.
 */
import type { PodEventReport } from '../../protocol/messages.js';

/** What a pod tells the buffer. */
export type PodEvent = Omit<PodEventReport, 'count' | 'firstTs' | 'lastTs'>;

/** Distinct events kept waiting at most. */
const defaultMax = 200;

/** Folded events waiting to be sent. */
export class PodEventBuffer {
  private readonly waiting = new Map<string, PodEventReport>();
  /** Entries dropped because the buffer was full (reported as one log line by the agent). */
  dropped = 0;

  constructor(private readonly max = defaultMax) {}

  /** How many distinct events wait. */
  get size(): number {
    return this.waiting.size;
  }

  /** One occurrence at `now`. */
  add(e: PodEvent, now = Date.now()): void {
    const key = [e.uid, e.container ?? '', e.reason, e.message].join('\u0000');
    const kept = this.waiting.get(key);
    if (kept) {
      kept.count++;
      kept.lastTs = now;
      return;
    }
    this.waiting.set(key, { ...e, count: 1, firstTs: now, lastTs: now });
    if (this.waiting.size > this.max) {
      this.waiting.delete(this.waiting.keys().next().value as string);
      this.dropped++;
    }
  }

  /** What waits, oldest first (still kept until `clear`: a publish may fail while offline). */
  peek(): PodEventReport[] {
    return [...this.waiting.values()];
  }

  /** Forgets what was sent. */
  clear(): void {
    this.waiting.clear();
  }
}

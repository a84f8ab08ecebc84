/**
 * A fake clock for controller tests (Kubernetes' clock/testing.FakeClock): time stands still until a
 * test moves it, and moving it fires the timers that fall due in time order, each at its own time, with
 * a hook between firings so the harness lets the controllers finish what a timer started before the
 * next one fires.
 */
import type { Clock, Timer } from '../../master/clock.js';

interface Pending {
  id: number;
  at: number;
  /** Set for `every` timers. */
  period?: number;
  fn: () => void;
}

/** A clock that moves only when told to. */
export class FakeClock implements Clock {
  private t: number;
  private nextId = 0;
  private readonly timers = new Map<number, Pending>();

  /** Starts at `start` (ms since epoch); the default is a fixed, round date so timestamps read easily. */
  constructor(start = Date.parse('2030-01-01T00:00:00.000Z')) {
    this.t = start;
  }

  now(): number {
    return this.t;
  }

  after(ms: number, fn: () => void): Timer {
    return this.add({ id: this.nextId++, at: this.t + Math.max(0, ms), fn });
  }

  every(ms: number, fn: () => void): Timer {
    const period = Math.max(1, ms);
    return this.add({ id: this.nextId++, at: this.t + period, period, fn });
  }

  /** How many timers are waiting. */
  get pending(): number {
    return this.timers.size;
  }

  /**
   * Moves time forward by `ms`, firing every timer that falls due on the way, earliest first (ties in
   * the order they were set), with the clock reading each timer's own time; `between` runs after each
   * firing. Timers set meanwhile fire too if they fall due before the end.
   */
  async advance(ms: number, between: () => Promise<void> = async () => {}): Promise<void> {
    const end = this.t + ms;
    for (;;) {
      const due = this.earliest(end);
      if (!due) break;
      this.t = Math.max(this.t, due.at);
      if (due.period) due.at += due.period;
      else this.timers.delete(due.id);
      due.fn();
      await between();
    }
    this.t = Math.max(this.t, end);
  }

  private add(p: Pending): Timer {
    this.timers.set(p.id, p);
    return { cancel: () => void this.timers.delete(p.id) };
  }

  private earliest(end: number): Pending | undefined {
    let best: Pending | undefined;
    for (const p of this.timers.values()) if (p.at <= end && (!best || p.at < best.at || (p.at === best.at && p.id < best.id))) best = p;
    return best;
  }
}

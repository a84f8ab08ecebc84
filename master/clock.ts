/**
 * Time as the control plane sees it. Every rule that depends on time — job back-off and deadlines,
 * cron schedules, node grace and eviction, HPA windows, rollout progress deadlines, requeues after a
 * delay, object timestamps — reads `now()` and waits with `after`/`every` from a Clock, so tests drive
 * the rules with a fake one (test/controllers/fake-clock.ts), as Kubernetes' controllers take a
 * `clock.Clock` (k8s.io/utils/clock) and are tested with `clock/testing.FakeClock`.
 */

/** A pending timer. */
export interface Timer {
  /** Stops the timer; calling it twice, or after it fired, is harmless. */
  cancel(): void;
}

/** A source of time and timers. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Calls `fn` once, `ms` from now. The timer never keeps the process alive. */
  after(ms: number, fn: () => void): Timer;
  /** Calls `fn` every `ms`. The timer never keeps the process alive. */
  every(ms: number, fn: () => void): Timer;
}

/** The wall clock and Node's timers (unref'd: a stopped master's timers must not keep it running). */
export const realClock: Clock = {
  now: () => Date.now(),
  after(ms, fn) {
    const t = setTimeout(fn, ms);
    t.unref();
    return { cancel: () => clearTimeout(t) };
  },
  every(ms, fn) {
    const t = setInterval(fn, ms);
    t.unref();
    return { cancel: () => clearInterval(t) };
  },
};

/** `now` as an RFC 3339 timestamp, as Kubernetes writes times into objects. */
export function isoNow(clock: Clock): string {
  return new Date(clock.now()).toISOString();
}

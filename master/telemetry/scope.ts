/**
 * Which master's Telemetry a work queue reports to. Controllers make their queues inside `startControllers`,
 * which runs within `withTelemetry(t, ...)`; a queue takes the telemetry of the scope it was made in, so the
 * controllers (which make queues in nine places) need not thread it through, and several masters in one
 * process (tests) keep apart. A queue made outside any scope (a controller's unit test) reports nowhere.
 *
 * The scope is synchronous (a variable set for the duration of `fn`): every queue is made while its controller
 * starts, before any await. Not AsyncLocalStorage: in Node 20 the first `run` turns on async_hooks' promise
 * hooks for the whole process, for good, and every promise the master made afterwards paid for it (issue 16,
 * idle CPU: `promiseInitHook` and context propagation on every MQTT message).
 */
import type { QueueMetrics, Telemetry } from './registry.js';

let current: Telemetry | undefined;

/** Runs `fn` with `t` as the telemetry of the queues it makes (synchronously, before `fn` returns). */
export function withTelemetry<T>(t: Telemetry | undefined, fn: () => T): T {
  if (!t) return fn();
  const outer = current;
  current = t;
  try {
    return fn();
  } finally {
    current = outer;
  }
}

/** The metrics of a queue named `name`, if it is made within a telemetry scope. */
export function queueMetricsFor(name: string): QueueMetrics | undefined {
  return current?.queue(name);
}

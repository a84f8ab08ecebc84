/**
 * Which master's Telemetry a work queue reports to. Controllers make their queues inside `startControllers`,
 * which runs within `withTelemetry(t, ...)`; a queue takes the telemetry of the scope it was made in.
 * AsyncLocalStorage rather than a constructor argument, so the controllers (which make queues in nine
 * places) need not thread it through, and several masters in one process (tests) keep apart. A queue
 * made outside any scope (a controller's unit test) reports nowhere.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { QueueMetrics, Telemetry } from './registry.js';

const scope = new AsyncLocalStorage<Telemetry>();

/** Runs `fn` with `t` as the telemetry of the queues it makes. */
export function withTelemetry<T>(t: Telemetry | undefined, fn: () => T): T {
  return t ? scope.run(t, fn) : fn();
}

/** The metrics of a queue named `name`, if it is made within a telemetry scope. */
export function queueMetricsFor(name: string): QueueMetrics | undefined {
  return scope.getStore()?.queue(name);
}

/**
 * Pod status reports on `nodes/{node}/pods`, throttled: a change after a quiet spell goes out at once (on the
 * next tick, so the changes of one tick travel together) — a pod's Running is not held back —, and changes
 * within the window (≈ 50 ms) after a report go out as one PodsMessage at its end, with the pod events
 * observed meanwhile, so a burst (a scale-up of 20 pods) costs one message per window. While offline nothing
 * is queued except `gone` uids and the (bounded, folded) events: on reconnect the agent sends a full report
 * carrying them.
 */
import type { OfflineReport, PodReport, PodsMessage } from '../protocol/messages.js';
import { PodEventBuffer, type PodEvent } from './pods/events.js';

/** Batches pod reports. */
export class PodReporter {
  private readonly dirty = new Set<string>();
  private readonly gone = new Set<string>();
  private readonly events = new PodEventBuffer();
  private timer?: NodeJS.Timeout;
  private closed = false;
  /** When the last report went out (ms since epoch). */
  private lastSent = 0;

  constructor(
    private readonly debounceMs: number,
    /** The report of one pod, undefined when it no longer exists. */
    private readonly reportOf: (uid: string) => PodReport | undefined,
    private readonly all: () => PodReport[],
    private readonly generation: () => number | undefined,
    /** Publishes; false when offline (nothing was sent). */
    private readonly publish: (m: PodsMessage) => boolean,
  ) {}

  /** A pod's status may have changed. */
  changed(uid: string): void {
    this.dirty.add(uid);
    this.schedule();
  }

  /** Something happened to a pod (kubelet's events): it rides on the next report. */
  event(e: PodEvent): void {
    if (this.closed) return;
    this.events.add(e);
    this.schedule();
  }

  /** A pod has stopped and been forgotten. */
  stopped(uid: string): void {
    this.dirty.delete(uid);
    this.gone.add(uid);
    this.schedule();
  }

  /** Sends every pod now (`full: true`), with any pending `gone` and the offline report, if any. Returns whether it went out. */
  full(offline?: OfflineReport): boolean {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.dirty.clear();
    return this.send({ pods: this.all(), full: true, ...(offline ? { offline } : {}) });
  }

  /** Stops sending. */
  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
  }

  private schedule(): void {
    if (this.timer || this.closed) return;
    const wait = Math.max(0, this.lastSent + this.debounceMs - Date.now());
    this.timer = setTimeout(() => this.flush(), wait);
  }

  private flush(): void {
    this.timer = undefined;
    const pods = [...this.dirty].map((u) => this.reportOf(u)).filter((r): r is PodReport => r !== undefined);
    this.dirty.clear();
    if (pods.length || this.gone.size || this.events.size) this.send({ pods });
  }

  private send(m: PodsMessage): boolean {
    if (this.closed) return false;
    this.lastSent = Date.now();
    const gone = [...this.gone];
    const events = this.events.peek();
    const generation = this.generation();
    const msg: PodsMessage = { ...m, ...(gone.length ? { gone } : {}), ...(events.length ? { events } : {}), ...(generation !== undefined ? { generation } : {}) };
    if (!this.publish(msg)) return false;
    this.gone.clear();
    this.events.clear();
    return true;
  }
}

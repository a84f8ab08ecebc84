/**
 * A budget for retained external metrics (`skiff/v1/metrics/{name}`, the only topics a client may
 * retain): the broker keeps a retained message until it is cleared, so without a bound 100,000
 * names × 4 KB stay in the master's memory until it restarts. At most maxRetainedMetrics topics and
 * maxRetainedMetricBytes (topics and payloads together) are retained; a retained publish beyond the
 * budget is delivered live but not kept, and logged. An empty retained payload clears a topic (MQTT
 * [MQTT-3.3.1-10]) and frees its share.
 */

/** Retained external-metric topics kept at most. */
export const maxRetainedMetrics = 1000;

/** Bytes (topic + payload) of retained external metrics kept at most: 1 MiB. */
export const maxRetainedMetricBytes = 1024 * 1024;

/** Tracks what is retained under the metrics topics and decides whether a retained publish may be kept. */
export class RetainedBudget {
  private readonly kept = new Map<string, number>();
  private bytes = 0;
  private lastWarning = 0;

  constructor(
    private readonly maxTopics = maxRetainedMetrics,
    private readonly maxBytes = maxRetainedMetricBytes,
  ) {}

  /** True when a retained publish of `payloadBytes` to `topic` may be kept (and accounts for it). */
  admit(topic: string, payloadBytes: number): boolean {
    const before = this.kept.get(topic);
    if (payloadBytes === 0) {
      if (before !== undefined) this.release(topic, before);
      return true;
    }
    const size = Buffer.byteLength(topic) + payloadBytes;
    const bytes = this.bytes - (before ?? 0) + size;
    if ((before === undefined && this.kept.size >= this.maxTopics) || bytes > this.maxBytes) return false;
    this.kept.set(topic, size);
    this.bytes = bytes;
    return true;
  }

  /** True at most once a minute: when a refusal should be logged (a sensor in a loop must not flood the log). */
  warnDue(now = Date.now()): boolean {
    if (now - this.lastWarning < 60_000) return false;
    this.lastWarning = now;
    return true;
  }

  /** The limits, for messages. */
  limits(): { topics: number; bytes: number } {
    return { topics: this.maxTopics, bytes: this.maxBytes };
  }

  /** Topics and bytes retained now. */
  usage(): { topics: number; bytes: number } {
    return { topics: this.kept.size, bytes: this.bytes };
  }

  private release(topic: string, size: number): void {
    this.kept.delete(topic);
    this.bytes -= size;
  }
}

/**
 * The master's Prometheus metrics (prom-client), one Registry per master. Names follow Kubernetes where
 * Kubernetes has one (client-go's `workqueue_*`, the kubelet's resource metrics, kube-scheduler's
 * `schedule_attempts`), `skiff_` otherwise. Every label value comes from a bounded set: verbs and codes
 * from their tables, topic classes from the topic tree, controller names from the code, and object
 * names only from objects in the store (resources.ts caps those). The list and the reasons are in
 * docs/observability.md.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { ErrorCodes } from '../../protocol/index.js';

/** Seconds buckets for fast operations: 0.5 ms … 10 s. */
const fastBuckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10];
/** Seconds buckets for waits that can take long (a pod waiting for a node): 10 ms … 10 min. */
const slowBuckets = [0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 600];

/** How often the event-loop lag histogram (nodejs_eventloop_lag_*) samples, ms. */
export const eventLoopSampleMs = 100;

/** A controller's work queue, as client-go's workqueue metrics see it. */
export interface QueueMetrics {
  /** A key entered the queue (not already queued). */
  added(key: string, depth: number): void;
  /** A key left the queue for its sync. */
  started(key: string, depth: number): void;
  /** A sync ended after `seconds`. */
  done(seconds: number): void;
  /** A failed sync was requeued with back-off. */
  retried(): void;
}

/** The bounded value of an error code label: a code of the catalogue, else `SKIFF_ERR_INTERNAL`. */
export function codeLabel(err: unknown): string {
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'string' && Object.prototype.hasOwnProperty.call(ErrorCodes, code) ? code : 'SKIFF_ERR_INTERNAL';
}

/** Every metric the master's parts report to. */
export class Telemetry {
  readonly registry = new Registry();

  readonly apiRequests = new Counter({ name: 'skiff_api_requests_total', help: 'API requests answered, by verb and outcome (ok or the SKIFF_ERR_* code).', labelNames: ['verb', 'outcome'], registers: [this.registry] });
  readonly apiDuration = new Histogram({ name: 'skiff_api_request_duration_seconds', help: 'Time from an API request to its answer (to the start of the stream for watch, logs and exec), by verb.', labelNames: ['verb'], buckets: fastBuckets, registers: [this.registry] });

  readonly scheduleAttempts = new Counter({ name: 'skiff_scheduler_schedule_attempts_total', help: 'Pods the scheduler tried to place, by result (scheduled, unschedulable, error), as kube-scheduler counts them.', labelNames: ['result'], registers: [this.registry] });
  readonly scheduleBatch = new Histogram({ name: 'skiff_scheduler_batch_duration_seconds', help: 'Time the engine took to filter, score and place one batch of pending pods.', buckets: fastBuckets, registers: [this.registry] });
  readonly podSchedulingDuration = new Histogram({ name: 'skiff_scheduler_pod_scheduling_duration_seconds', help: 'Time from a pod\'s creation to its binding to a node.', buckets: slowBuckets, registers: [this.registry] });
  readonly pendingPods = new Gauge({ name: 'skiff_scheduler_pending_pods', help: 'Pods waiting for a node: active (queued for the next batch) or unschedulable (retried when the cluster changes).', labelNames: ['queue'], registers: [this.registry] });
  readonly schedulerEngine = new Gauge({ name: 'skiff_scheduler_engine_info', help: 'The scheduling engine the master runs (1 for the engine in use): wasm or reference.', labelNames: ['engine'], registers: [this.registry] });

  readonly queueDepth = new Gauge({ name: 'workqueue_depth', help: 'Keys waiting in a controller\'s work queue.', labelNames: ['name'], registers: [this.registry] });
  readonly queueAdds = new Counter({ name: 'workqueue_adds_total', help: 'Keys added to a controller\'s work queue.', labelNames: ['name'], registers: [this.registry] });
  readonly queueRetries = new Counter({ name: 'workqueue_retries_total', help: 'Failed syncs requeued with back-off.', labelNames: ['name'], registers: [this.registry] });
  readonly queueLatency = new Histogram({ name: 'workqueue_queue_duration_seconds', help: 'Time a key waited in the queue before its sync started.', labelNames: ['name'], buckets: fastBuckets, registers: [this.registry] });
  readonly queueWork = new Histogram({ name: 'workqueue_work_duration_seconds', help: 'Time one sync of a key took (the controller\'s sync latency).', labelNames: ['name'], buckets: fastBuckets, registers: [this.registry] });

  readonly storeWrites = new Counter({ name: 'skiff_store_writes_total', help: 'Writes to the store, by operation (create, update, delete) and outcome (ok or the SKIFF_ERR_* code).', labelNames: ['op', 'outcome'], registers: [this.registry] });
  readonly storeWriteDuration = new Histogram({
    name: 'skiff_store_write_duration_seconds',
    help: 'Time one store write took until durable: on SQLite the transaction commit including the WAL fsync, on etcd the round trip to a quorum.',
    labelNames: ['op'],
    buckets: fastBuckets,
    registers: [this.registry],
  });

  readonly brokerReceived = new Counter({ name: 'skiff_broker_messages_received_total', help: 'MQTT messages clients published to the broker, by topic class.', labelNames: ['topic_class'], registers: [this.registry], collect: () => this.collectBroker() });
  readonly brokerReceivedBytes = new Counter({ name: 'skiff_broker_received_bytes_total', help: 'Payload bytes clients published to the broker, by topic class.', labelNames: ['topic_class'], registers: [this.registry], collect: () => this.collectBroker() });
  readonly brokerSent = new Counter({ name: 'skiff_broker_messages_sent_total', help: 'MQTT messages the broker delivered to clients (one per subscriber), by topic class.', labelNames: ['topic_class'], registers: [this.registry], collect: () => this.collectBroker() });
  readonly brokerSentBytes = new Counter({ name: 'skiff_broker_sent_bytes_total', help: 'Payload bytes the broker delivered to clients, by topic class.', labelNames: ['topic_class'], registers: [this.registry], collect: () => this.collectBroker() });

  readonly connectsRefused = new Counter({ name: 'skiff_broker_connects_refused_total', help: 'MQTT CONNECTs the broker refused, by reason: bad_credentials, not_authorized, client_id_rejected, too_many_connections (CONNACK 4, 5, 2, 3).', labelNames: ['reason'], registers: [this.registry] });

  readonly events = new Counter({ name: 'skiff_events_total', help: 'Event occurrences recorded (repeats included), by type and reason.', labelNames: ['type', 'reason'], registers: [this.registry], collect: () => this.foldEvents() });
  /** Event occurrences not folded into `events` yet, by type, then reason (countEvent). */
  private readonly eventTally = new Map<string, Map<string, number>>();

  private readonly queueStarts = new Map<string, Map<string, number>>();
  /** Folds tallies kept outside prom-client into the broker counters (brokerObservers), before they are read. */
  private readonly brokerCollectors: (() => void)[] = [];

  constructor() {
    // process_* and nodejs_* (cpu, resident memory, heap, event loop lag, open handles) of the master process. The
    // event-loop lag is sampled every 100 ms, not prom-client's 10 ms: its native timer woke the idle master 100 times
    // a second (~0.3 % of a core on the 2-core bench box, issue 16), and a stall still shows in the histogram.
    collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: eventLoopSampleMs });
  }

  /** Runs `fold` whenever a broker counter is read (scrape, or a metric's get), before its values are taken. */
  onBrokerCollect(fold: () => void): void {
    this.brokerCollectors.push(fold);
  }

  private collectBroker(): void {
    for (const fold of this.brokerCollectors) fold();
  }

  /**
   * Counts `n` occurrences of an event into `skiff_events_total`, folded in when the counter is read: a rollout records
   * two events per pod, and prom-client hashed the labels into a key string for each (~1.5 µs of ~15).
   */
  countEvent(type: string, reason: string, n: number): void {
    let byReason = this.eventTally.get(type);
    if (!byReason) this.eventTally.set(type, (byReason = new Map()));
    byReason.set(reason, (byReason.get(reason) ?? 0) + n);
  }

  private foldEvents(): void {
    for (const [type, byReason] of this.eventTally) for (const [reason, n] of byReason) this.events.inc({ type, reason }, n);
    this.eventTally.clear();
  }

  /** The metrics of one controller's queue. */
  queue(name: string): QueueMetrics {
    const since = new Map<string, number>();
    this.queueStarts.set(name, since);
    const labels = { name };
    this.queueDepth.set(labels, 0);
    return {
      added: (key, depth) => {
        this.queueAdds.inc(labels);
        this.queueDepth.set(labels, depth);
        if (!since.has(key)) since.set(key, performance.now());
      },
      started: (key, depth) => {
        this.queueDepth.set(labels, depth);
        const t = since.get(key);
        since.delete(key);
        if (t !== undefined) this.queueLatency.observe(labels, (performance.now() - t) / 1000);
      },
      done: (seconds) => this.queueWork.observe(labels, seconds),
      retried: () => this.queueRetries.inc(labels),
    };
  }

  /** Prometheus text exposition of every metric. */
  scrape(): Promise<string> {
    return this.registry.metrics();
  }

  /** The content type of `scrape`'s text. */
  get contentType(): string {
    return this.registry.contentType;
  }
}

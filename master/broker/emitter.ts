/**
 * The broker's message queue: what aedes calls `mq` (the mqemitter interface: on, removeListener,
 * removeAllListeners, emit, close), written for an edge master that publishes in bulk.
 *
 * Why not mqemitter itself (issue 16, measured at 10,000–20,000 pods):
 * - **No recursion**: mqemitter starts the next queued message from inside the release of the previous one, so a
 *   long run of messages that complete synchronously (no subscriber: leases, status, `$SYS`) recurses once per
 *   message — `RangeError: Maximum call stack size exceeded` past ~10,000 queued. Here one loop drains the queue.
 * - **O(1) dequeue**: `Array.prototype.shift` on a 50,000-message queue copies it (17 % of a rollout's profile).
 * - **Liveness first**: a node's lease and status never wait behind anything: they start at once, outside the
 *   concurrency bound (they are small and have no subscriber but the master). Other messages from clients and the
 *   master's own publishes (events, desired sets) take turns, so neither starves the other.
 *
 * Matching is qlobber's, configured as mqemitter configures it (aedes: `matchEmptyLevels` [MQTT-4.7.1-3]), and its
 * answers are remembered per topic until a subscription changes (session 23): in a rollout the same few thousand
 * topics (every node's desired set and pod reports, the events' topics the recorder asks about twice per event) were
 * split and matched anew for every message, ~1 % of the master's time, while nobody subscribed or left.
 */
import { Qlobber } from 'qlobber';

/** What aedes hands the queue: a packet with a topic (and the publishing client's id, when a client published it). */
export interface QueuedPacket {
  topic: string;
  clientId?: string;
}

type Done = (err?: Error) => void;
/** A subscription's delivery function, as aedes hands it to `on`. */
export type Listener = (packet: QueuedPacket, done: () => void) => void;

/** Distinct topics whose listeners are remembered before the memory starts over (a client inventing topics cannot grow it). */
export const maxMatchedTopics = 20_000;

/** A FIFO with O(1) push and shift (a head index; the array is compacted once half of it is consumed). */
export class Fifo<T> {
  private items: T[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(x: T): void {
    this.items.push(x);
  }

  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const x = this.items[this.head];
    (this.items as (T | undefined)[])[this.head++] = undefined;
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return x;
  }
}

/** The traffic classes, in the order they are served. */
export type TrafficClass = 'liveness' | 'clients' | 'master';

/** Which class a packet is in: `isLiveness` says which client topics are a node's heartbeat. */
export function classify(p: QueuedPacket, isLiveness: (topic: string) => boolean): TrafficClass {
  if (p.clientId === undefined) return 'master';
  return isLiveness(p.topic) ? 'liveness' : 'clients';
}

/** An mqemitter for aedes with the properties above. */
export class BrokerQueue {
  private readonly matcher = new Qlobber({ separator: '/', wildcard_one: '+', wildcard_some: '#', match_empty_levels: true });
  /** Topic → its listeners as the matcher last answered (never changed in place); emptied whenever the matcher changes. */
  private readonly matched = new Map<string, readonly Listener[]>();
  private readonly waiting = { clients: new Fifo<[QueuedPacket, Done]>(), master: new Fifo<[QueuedPacket, Done]>() };
  /** Messages being delivered now (liveness ones not counted). */
  private current = 0;
  private pumping = false;
  /** Which class the next free slot goes to when both wait (alternating). */
  private turn: 'clients' | 'master' = 'clients';
  closed = false;
  /** The most messages that waited at once (telemetry and tests). */
  peak = 0;

  /** Filters that may match a liveness topic (`mayWatchLiveness`) → how many listeners hold each. */
  private readonly livenessFilters = new Map<string, number>();

  constructor(
    /** Messages delivered at once (aedes' `concurrency`); each waits for its slowest subscriber's socket. */
    readonly concurrency: number,
    private readonly isLiveness: (topic: string) => boolean = () => false,
    /** True when a subscription filter may match some liveness topic (counted: `livenessWatched`). */
    private readonly mayWatchLiveness: (filter: string) => boolean = () => true,
  ) {}

  /**
   * True when some subscription may match a liveness topic (an administrator watching `skiff/v1/#`): then leases
   * must go through the queue to reach it. Otherwise the broker may handle them without it (fast-lease.ts).
   */
  get livenessWatched(): boolean {
    return this.livenessFilters.size > 0;
  }

  private countFilter(topic: string, by: number): void {
    if (!this.mayWatchLiveness(topic)) return;
    const n = (this.livenessFilters.get(topic) ?? 0) + by;
    if (n > 0) this.livenessFilters.set(topic, n);
    else this.livenessFilters.delete(topic);
  }

  /** Messages waiting for a slot. */
  get length(): number {
    return this.waiting.clients.length + this.waiting.master.length;
  }

  on(topic: string, notify: Listener, done?: () => void): this {
    this.matcher.add(topic, notify);
    this.matched.clear();
    this.countFilter(topic, 1);
    if (done) setImmediate(done);
    return this;
  }

  /** True when a listener (a client's subscription, wildcards included) matches `topic`: a message to it reaches someone. */
  hasListener(topic: string): boolean {
    return this.listenersOf(topic).length > 0;
  }

  /** The listeners matching `topic` now (the array is shared: not to be changed). */
  listenersOf(topic: string): readonly Listener[] {
    let l = this.matched.get(topic);
    if (l === undefined) {
      if (this.matched.size >= maxMatchedTopics) this.matched.clear();
      l = this.matcher.match(topic) as Listener[];
      this.matched.set(topic, l);
    }
    return l;
  }

  removeListener(topic: string, notify: Listener, done?: () => void): this {
    // As mqemitter: later, so a listener removing itself while a message is being delivered does not skip others.
    setImmediate(() => {
      this.matcher.remove(topic, notify);
      this.matched.clear();
      this.countFilter(topic, -1);
      done?.();
    });
    return this;
  }

  removeAllListeners(topic: string, done?: () => void): this {
    this.matcher.remove(topic);
    this.matched.clear();
    this.livenessFilters.delete(topic);
    if (done) setImmediate(done);
    return this;
  }

  emit(packet: QueuedPacket, cb: Done = () => {}): this {
    if (this.closed) {
      cb(new Error('the broker queue is closed'));
      return this;
    }
    const cls = classify(packet, this.isLiveness);
    if (cls === 'liveness') {
      this.deliver(packet, cb, false);
      return this;
    }
    this.waiting[cls].push([packet, cb]);
    this.peak = Math.max(this.peak, this.length);
    this.pump();
    return this;
  }

  close(cb: () => void): this {
    this.closed = true;
    setImmediate(cb);
    return this;
  }

  /** Starts waiting messages while slots are free; one loop, re-entered by nothing (completions inside it only count down). */
  private pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (this.current < this.concurrency) {
        const next = this.next();
        if (!next) break;
        this.deliver(next[0], next[1], true);
      }
    } finally {
      this.pumping = false;
    }
  }

  private next(): [QueuedPacket, Done] | undefined {
    const first = this.waiting[this.turn];
    const other = this.waiting[this.turn === 'clients' ? 'master' : 'clients'];
    this.turn = this.turn === 'clients' ? 'master' : 'clients';
    return first.shift() ?? other.shift();
  }

  /** Hands a packet to every matching listener; `cb` once all are done, then the slot (if it took one) is free. */
  private deliver(packet: QueuedPacket, cb: Done, slot: boolean): void {
    const listeners = this.listenersOf(packet.topic);
    if (slot) this.current++;
    let left = listeners.length;
    const finish = () => {
      cb();
      if (!slot) return;
      this.current--;
      this.pump();
    };
    if (left === 0) return finish();
    const one = () => {
      if (--left === 0) finish();
    };
    for (const l of listeners) l(packet, one);
  }
}

/**
 * How many API requests one identity has at once. Without a bound, a client that sent requests and never read the
 * answers made the master keep every answer: the embedded broker writes answers straight onto the client's connection
 * (broker/fast-api.ts `writeNow`), and what the kernel does not take waits in the socket's buffer. A view token, 300
 * `list configmaps` with a different label selector each (10,000 small ConfigMaps) and a socket nobody read: +600 MB
 * in 3 s (test/security/answer-backlog.test.ts). A stream's pieces were bounded already (server.ts `streamBacklog`);
 * plain answers were not.
 *
 * Kubernetes bounds requests in flight (`--max-requests-inflight`, then API Priority and Fairness: seats per flow,
 * queues, 429 when a queue is full). Here the flow is the identity (its role and name: every connection of one token
 * shares it, so a second connection buys nothing):
 * - at most `inFlight` requests of an identity are being handled or having their answer written; a slot is freed
 *   when the answer is written to the socket (or the socket drained), so a client that does not read keeps its
 *   slots, and what the master holds for it is at most `inFlight` answers;
 * - the next ones wait, in order, up to `waiting` requests and `waitingBytes` of their payloads;
 * - past that the asking client is disconnected (the embedded broker; with an external broker, which bounds each
 *   client's queue itself, the request is refused with SKIFF_ERR_UNAVAILABLE);
 * - an answer still being written after `writeMs` disconnects its client (kube-apiserver's request timeout is 60 s
 *   too): a client that stopped reading gives its identity's slots back.
 * Streams (watch, logs -f, exec) hold a slot only until they start: their pieces have their own backlog.
 */

/** Bounds per identity. */
export interface RequestLimits {
  /** Requests handled or answered at once. */
  inFlight: number;
  /** Requests waiting for a slot. */
  waiting: number;
  /** Bytes of the waiting requests' payloads. */
  waitingBytes: number;
  /** How long an answer may take to be written before its client is disconnected, ms. */
  writeMs: number;
}

export const requestLimits: Readonly<RequestLimits> = Object.freeze({ inFlight: 8, waiting: 256, waitingBytes: 8 * 1024 * 1024, writeMs: 60_000 });

/** One request holding a slot. */
export interface Slot {
  readonly clientId: string;
  /** When its answer began to be written (undefined while its handler runs). */
  writingSince?: number;
  /** Its client was told to go (`overdue` reports a slot once). */
  overdue?: boolean;
}

interface Waiting {
  clientId: string;
  bytes: number;
  run: (slot: Slot) => Promise<void>;
  resolve: () => void;
}

interface Flow {
  slots: Set<Slot>;
  waiting: Waiting[];
  waitingBytes: number;
}

/** The requests in flight and waiting, by identity. */
export class RequestGate {
  private readonly flows = new Map<string, Flow>();

  constructor(private readonly limits: Readonly<RequestLimits> = requestLimits) {}

  /**
   * Runs `run` now when `owner` has a free slot, later when it has none (the promise resolves once it ran), or not
   * at all: false when the owner's waiting line is full.
   */
  enter(owner: string, clientId: string, bytes: number, run: (slot: Slot) => Promise<void>): Promise<void> | false {
    let flow = this.flows.get(owner);
    if (!flow) this.flows.set(owner, (flow = { slots: new Set(), waiting: [], waitingBytes: 0 }));
    if (flow.slots.size < this.limits.inFlight && flow.waiting.length === 0) return this.start(owner, flow, clientId, run);
    if (flow.waiting.length >= this.limits.waiting || flow.waitingBytes + bytes > this.limits.waitingBytes) return false;
    flow.waitingBytes += bytes;
    return new Promise((resolve) => flow.waiting.push({ clientId, bytes, run, resolve }));
  }

  /** A client went away: its waiting requests are dropped (their answers would have nowhere to go). */
  clientGone(clientId: string): void {
    for (const [owner, flow] of this.flows) {
      if (!flow.waiting.some((w) => w.clientId === clientId)) continue;
      const kept: Waiting[] = [];
      for (const w of flow.waiting) {
        if (w.clientId !== clientId) kept.push(w);
        else (flow.waitingBytes -= w.bytes), w.resolve();
      }
      flow.waiting = kept;
      this.forget(owner, flow);
    }
  }

  /** Slots whose answer has been in writing for longer than `writeMs`, each reported once. */
  overdue(now: number): Slot[] {
    const late: Slot[] = [];
    for (const flow of this.flows.values())
      for (const s of flow.slots)
        if (!s.overdue && s.writingSince !== undefined && now - s.writingSince > this.limits.writeMs) (s.overdue = true), late.push(s);
    return late;
  }

  /**
   * Gives an overdue slot back although its answer is still in writing: its client could not be disconnected (gone
   * already, or an external broker's), and a write that never finishes must not hold the identity's slot for good.
   */
  release(slot: Slot): void {
    for (const [owner, flow] of this.flows)
      if (flow.slots.delete(slot)) return this.next(owner, flow);
  }

  /** Requests in flight and waiting for `owner` (tests, metrics). */
  load(owner: string): { inFlight: number; waiting: number; waitingBytes: number } {
    const f = this.flows.get(owner);
    return { inFlight: f?.slots.size ?? 0, waiting: f?.waiting.length ?? 0, waitingBytes: f?.waitingBytes ?? 0 };
  }

  /** Identities with requests in flight or waiting. */
  get size(): number {
    return this.flows.size;
  }

  private start(owner: string, flow: Flow, clientId: string, run: (slot: Slot) => Promise<void>): Promise<void> {
    const slot: Slot = { clientId };
    flow.slots.add(slot);
    const done = () => {
      flow.slots.delete(slot);
      this.next(owner, flow);
    };
    let ran: Promise<void>;
    try {
      ran = run(slot);
    } catch (err) {
      ran = Promise.reject(err);
    }
    return ran.then(done, (err) => {
      done();
      throw err;
    });
  }

  /** Starts waiting requests while there are free slots; forgets an idle owner. */
  private next(owner: string, flow: Flow): void {
    while (flow.slots.size < this.limits.inFlight && flow.waiting.length > 0) {
      const w = flow.waiting.shift()!;
      flow.waitingBytes -= w.bytes;
      this.start(owner, flow, w.clientId, w.run).then(w.resolve, w.resolve);
    }
    this.forget(owner, flow);
  }

  private forget(owner: string, flow: Flow): void {
    if (flow.slots.size === 0 && flow.waiting.length === 0 && this.flows.get(owner) === flow) this.flows.delete(owner);
  }
}

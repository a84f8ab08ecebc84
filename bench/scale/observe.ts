/**
 * What the harness watches while a rollout runs, each over its own API connection as a user would: the pods
 * (create → Running per pod, from a watch — re-listed when the master drops a slow watcher, as a Kubernetes
 * client re-lists on 410 — or from polled lists), the nodes (every node that is ever not Ready), and the API's
 * latency (`get` and `list pods` timed from the client).
 */
import { appendFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { answerTimings } from '../../cli/client.js';
import type { Api } from '../../cli/types.js';
import { readyStatus, type ApiResponse, type Node, type Pod } from '../../protocol/index.js';

/** Running with every container ready, not terminating. */
export function runningReady(p: Pod): boolean {
  return p.status?.phase === 'Running' && (p.status.containerStatuses?.length ?? 0) > 0 && p.status.containerStatuses!.every((c) => c.ready) && !p.metadata.deletionTimestamp;
}

/** A watch of one kind that re-lists and watches again when its stream ends (a dropped slow watcher). */
class Rewatch<T extends Pod | Node> {
  private stopped = false;
  private readonly abort = new AbortController();
  /** Times the master ended the watch (dropped it) and it was re-listed. */
  relists = 0;
  readonly done: Promise<void>;

  constructor(
    private readonly api: Api,
    private readonly params: Record<string, unknown>,
    private readonly seen: (o: T, type: string) => void,
  ) {
    this.done = this.loop();
  }

  private async loop(): Promise<void> {
    // After a re-list, the watch starts from the list's resourceVersion (nothing replayed, nothing lost).
    let from: string | undefined;
    while (!this.stopped) {
      try {
        await this.api.stream('watch', from ? { ...this.params, resourceVersion: from } : this.params, (res: ApiResponse) => {
          const ev = (res as { event?: { type: string; object: T } }).event;
          if (ev) this.seen(ev.object, ev.type);
        }, this.abort.signal);
      } catch {
        // ended by the master (too slow, or an error): list again below
      }
      if (this.stopped) return;
      this.relists++;
      const { items, metadata } = await this.api.request<{ items: T[]; metadata?: { resourceVersion?: string } }>('list', this.params).catch(() => ({ items: [] as T[], metadata: undefined }));
      for (const o of items) this.seen(o, 'LISTED');
      from = metadata?.resourceVersion;
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.abort.abort();
    await this.done.catch(() => undefined);
  }
}

/** Per-pod create → Running, and pods deleted meanwhile (evictions, replacements). */
export class PodTracker {
  private readonly created = new Map<string, number>();
  private readonly running = new Map<string, number>();
  readonly names = new Map<string, string>();
  deleted = 0;
  private watch?: Rewatch<Pod>;
  private poller?: NodeJS.Timeout;
  private waiters: (() => void)[] = [];

  constructor(private readonly expected: number) {}

  /** Follows pods with `selector` in `default` by watch (`poll` = 0) or by a list every `poll` ms. */
  start(api: Api, selector: string, poll: number): void {
    const params = { kind: 'Pod', namespace: 'default', labelSelector: selector };
    if (poll <= 0) {
      this.watch = new Rewatch<Pod>(api, params, (p, type) => this.see(p, type));
      return;
    }
    const tick = async () => {
      const { items } = await api.request<{ items: Pod[] }>('list', params).catch(() => ({ items: [] as Pod[] }));
      for (const p of items) this.see(p, 'LISTED');
      if (this.poller) this.poller = setTimeout(tick, poll);
    };
    this.poller = setTimeout(tick, 0);
  }

  private see(p: Pod, type: string): void {
    const uid = p.metadata.uid!;
    if (type === 'DELETED') {
      this.deleted++;
      return;
    }
    if (!this.created.has(uid)) this.created.set(uid, Date.parse(p.metadata.creationTimestamp!));
    this.names.set(uid, p.metadata.name);
    if (runningReady(p) && !this.running.has(uid)) {
      this.running.set(uid, Date.now());
      if (this.running.size >= this.expected) for (const w of this.waiters.splice(0)) w();
    }
  }

  /** Pods seen Running so far. */
  get runningCount(): number {
    return this.running.size;
  }

  /** Times the watch was dropped by the master and re-listed. */
  get relists(): number {
    return this.watch?.relists ?? 0;
  }

  /** Resolves when `expected` pods were seen Running; false at the deadline. */
  allRunning(timeoutMs: number): Promise<boolean> {
    if (this.running.size >= this.expected) return Promise.resolve(true);
    return new Promise((resolve) => {
      const t = setTimeout(() => resolve(false), timeoutMs);
      this.waiters.push(() => (clearTimeout(t), resolve(true)));
    });
  }

  /** create → Running, ms, per pod seen Running. */
  latencies(): number[] {
    return [...this.running].map(([uid, at]) => at - (this.created.get(uid) ?? at));
  }

  async stop(): Promise<void> {
    const p = this.poller;
    this.poller = undefined;
    clearTimeout(p);
    await this.watch?.stop();
  }
}

/** Every node that was ever not Ready while watched. */
export class NodeTracker {
  readonly notReady = new Set<string>();
  private watch?: Rewatch<Node>;

  start(api: Api): void {
    this.watch = new Rewatch<Node>(api, { kind: 'Node' }, (n, type) => {
      if (type !== 'DELETED' && readyStatus(n) !== 'True') this.notReady.add(n.metadata.name);
    });
  }

  async stop(): Promise<void> {
    await this.watch?.stop();
  }
}

/** `list pods` as `skiff get pods` asks it: the CLI's client asks lists in records (cli/client.ts) and decodes them. */
const podList = { kind: 'Pod', namespace: 'default' };
/**
 * The same list asked plain (msgpack maps, what any msgpack client gets): timed apart, so that what the CLI's encoding
 * saves is seen, never hidden. Only in the burst after the rollout: the master keeps every listed pod's plain bytes
 * beside its records bytes (~1 KB a pod), which would otherwise count in its memory from the first list on.
 */
const plainPodList = { ...podList, encoding: 'msgpack' };

/**
 * Times API requests: one `get` every `getEveryMs` and one `list pods` every `listEveryMs`, one at a time each —
 * the list as the CLI asks and decodes it (records) — and, after the rollout, back-to-back samples.
 */
export class ApiProbe {
  readonly getMs: number[] = [];
  readonly listMs: number[] = [];
  /** Plain-msgpack lists of the same pods (burst only). */
  readonly plainListMs: number[] = [];
  /**
   * Each timed list's parts, when the master says them (SKIFF_API_TIMING=1): the wait until the master read the
   * request, its own parts (`listTimes`), the rest until the answer arrived, and the decode.
   */
  readonly listParts: ListParts[] = [];
  /** Each timed get's parts the same way (SKIFF_API_TIMING=1): where a get's wait during a rollout is. */
  readonly getParts: ListParts[] = [];
  /**
   * How late the get loop's timer fired, ms, each time it waited: the probe thread's own wait for a CPU (its loop does
   * nothing else). A get timed while this thread was starved is the bench's figure, not the master's.
   */
  readonly getLateMs: number[] = [];
  errors = 0;
  private stopped = false;
  private readonly loops: Promise<void>[] = [];
  /** Wakes the loops' waits at stop. */
  private readonly stopping = new AbortController();

  constructor(
    private readonly api: Api,
    private readonly getParams: Record<string, unknown>,
  ) {}

  /** Starts the timed loops; an interval of 0 starts none of that kind. */
  start(getEveryMs: number, listEveryMs: number): void {
    if (getEveryMs > 0) this.loops.push(this.loop(getEveryMs, () => this.get(), this.getMs, this.getLateMs));
    if (listEveryMs > 0) this.loops.push(this.loop(listEveryMs, () => this.list(podList), this.listMs));
  }

  /** A get, its parts noted when its answer says them. */
  private async get(): Promise<unknown> {
    const began = performance.now();
    const result = await this.api.request('get', this.getParams);
    const t = result !== null && typeof result === 'object' ? answerTimings.get(result) : undefined;
    if (t) this.getParts.push(listParts(performance.timeOrigin + began, performance.now() - began, t));
    return result;
  }

  /** A list, its parts noted when its answer says them. */
  private async list(params: Record<string, unknown>): Promise<unknown> {
    const began = performance.now();
    const sentAt = performance.timeOrigin + began;
    const result = await this.api.request('list', params);
    const t = result !== null && typeof result === 'object' ? answerTimings.get(result) : undefined;
    if (t) {
      // The master says the previous timed list's encode and write with this one (master/api/server.ts).
      const prev = this.listParts.at(-1);
      if (prev && t.prevSeq !== undefined && prev.seq === t.prevSeq) Object.assign(prev, { encodeMs: t.prevEncodeMs, writeMs: t.prevWriteMs });
      this.listParts.push(listParts(sentAt, performance.now() - began, t));
    }
    return result;
  }

  /** `n` more of each, back to back (enough samples for a p99 after the rollout); the plain lists last. */
  async burst(gets: number, lists: number, plainLists = 0): Promise<void> {
    for (let i = 0; i < gets; i++) await this.time(() => this.get(), this.getMs);
    for (let i = 0; i < lists; i++) await this.time(() => this.list(podList), this.listMs);
    for (let i = 0; i < plainLists; i++) await this.time(() => this.api.request('list', plainPodList), this.plainListMs);
  }

  private async loop(everyMs: number, fn: () => Promise<unknown>, into: number[], late?: number[]): Promise<void> {
    while (!this.stopped) {
      const began = performance.now();
      await this.time(fn, into);
      const wait = everyMs - (performance.now() - began);
      if (wait > 0 && !this.stopped) {
        await sleep(wait, this.stopping.signal);
        if (!this.stopped) late?.push(performance.now() - began - everyMs);
      }
    }
  }

  private async time(fn: () => Promise<unknown>, into: number[]): Promise<void> {
    const began = performance.now();
    try {
      await fn();
      into.push(performance.now() - began);
    } catch {
      this.errors++;
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.stopping.abort();
    await Promise.all(this.loops);
  }
}

/** Where one list's time went, ms (wall clock across the probe's thread and the master: same machine). */
export interface ListParts {
  sentAt: number;
  totalMs: number;
  /** From the send to the master reading the request (its loop's turns, the socket). */
  toMasterMs: number;
  /** Waiting for the informers to reach the store's revision (the watch hub's delivery). */
  waitMs: number;
  /** How many store revisions the informers were behind when the list began waiting. */
  behind: number;
  /** The list's objects' bytes made in budgeted turns (master/api/encoding.ts prepareAnswer), and how many. */
  prepareMs: number;
  objectsEncoded: number;
  /** Objects whose bytes the master made ahead of a list since the last timed list (master/api/list-warm.ts). */
  objectsWarmed: number;
  /** The master's timed-list number; the encode (splice) and the write until the socket took it, said with the next list. */
  seq?: number;
  encodeMs?: number;
  writeMs?: number;
  /** From the end of `prepare` to the answer in the client: the splice, the write, the transfer. */
  answerMs: number;
  decodeMs: number;
  resultBytes: number;
}

function listParts(sentAt: number, totalMs: number, t: Record<string, number>): ListParts {
  const prepared = t.receivedAt + t.queuedMs + t.handlerMs + t.prepareMs;
  return {
    sentAt,
    totalMs,
    toMasterMs: t.receivedAt - sentAt,
    waitMs: t.waitMs,
    behind: t.behind ?? 0,
    prepareMs: t.prepareMs,
    objectsEncoded: t.objectsEncoded,
    objectsWarmed: t.objectsWarmed ?? 0,
    seq: t.seq,
    answerMs: t.arrivedAt - prepared,
    decodeMs: t.decodeMs,
    resultBytes: t.resultBytes,
  };
}

/** Appends each list's parts to `file` as JSON lines (SKIFF_LIST_TRACE=FILE: the probe thread writes there). */
export function writeListParts(file: string, parts: ListParts[]): void {
  if (parts.length > 0) appendFileSync(file, parts.map((p) => JSON.stringify(p)).join('\n') + '\n');
}

/** Waits `ms`, or less when `signal` aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const onAbort = () => (clearTimeout(t), resolve());
    const t = setTimeout(() => (signal.removeEventListener('abort', onAbort), resolve()), ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

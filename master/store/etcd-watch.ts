/**
 * One store watch on etcd: an etcd3 Watcher on the key range, from an etcd start revision, with
 * previous values. etcd sends history then live changes in revision order; each event is turned
 * into a WatchEvent (values parsed per delivery) and handed to the callback in order.
 *
 * Resuming after a lost connection is ours, not the client's: etcd3 resumes from "last header
 * revision + 1", and the header of a watch's creation (or of a history batch) can be ahead of the
 * events actually delivered, which would skip changes. So the watch keeps its own cursor — the
 * revision of the last event delivered, or of a progress notice — and sets the resume point from
 * it on every disconnect.
 */
import type { Etcd3, IEvent, IWatchResponse, Watcher } from 'etcd3';
import { SkiffError } from '../../protocol/errors.js';
import type { Logger } from '../../protocol/log.js';
import type { Watch, WatchEvent } from './types.js';
import type { RootKeys } from './etcd-client.js';
import { lazyPrevValue, type WatchErrorHandler } from './watch-hub.js';

/** What a watch needs from its store. */
export interface EtcdWatchContext {
  client: Etcd3;
  keys: RootKeys;
  /** store revision = etcd revision + offset. */
  offset: number;
  onWatchError: WatchErrorHandler;
  /** Reports a watch that stopped when its owner gave no onError. */
  log: Logger;
  /** Tells the store which etcd revisions it has seen (for "watch from now"). */
  seen(etcdRevision: number): void;
  /** Explains a cancelled watch: CONFLICT "compacted" when its resume point is gone, UNAVAILABLE otherwise. */
  explainCancel(prefix: string, resumeAt: number, err: unknown): Promise<SkiffError>;
}

/** A running etcd watch. */
export class EtcdWatch implements Watch {
  private watcher: Watcher | undefined;
  private closed = false;
  /** Every event at or below this etcd revision was delivered. */
  private cursor: number;

  constructor(
    private readonly ctx: EtcdWatchContext,
    private readonly prefix: string,
    startRevision: number,
    private readonly onEvent: (e: WatchEvent<unknown>) => void,
    private readonly onError: ((err: SkiffError) => void) | undefined,
  ) {
    this.cursor = startRevision - 1;
    const { start, end } = ctx.keys.range(prefix);
    const w = ctx.client.watch().inRange({ start, end }).startRevision(String(startRevision)).withPreviousKV().watcher();
    this.watcher = w;
    w.on('data', (res) => this.onData(res));
    w.on('disconnected', () => this.rewind());
    w.on('error', (err) => void this.fail(err));
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    const w = this.watcher;
    this.watcher = undefined;
    w?.cancel().catch(() => undefined);
  }

  private onData(res: IWatchResponse): void {
    if (this.closed) return;
    // The events of one revision (a transaction's writes) come in one response: skip only what was
    // delivered before this response (replayed after a reconnect), not this revision's other keys.
    const before = this.cursor;
    for (const ev of res.events) {
      if (this.closed) return;
      const rev = Number(ev.kv.mod_revision);
      if (rev <= before) continue;
      this.cursor = Math.max(this.cursor, rev);
      this.deliver(ev);
    }
    // A response without events is a progress notice: nothing at or below its revision is pending.
    // (A history batch's header may run ahead of its events, so only event-less ones move the cursor.)
    if (res.events.length === 0) this.cursor = Math.max(this.cursor, Number(res.header.revision));
    this.ctx.seen(Number(res.header.revision));
  }

  private deliver(ev: IEvent): void {
    let event: WatchEvent<unknown> | undefined;
    try {
      event = toEvent(this.ctx, ev);
      this.onEvent(event);
    } catch (err) {
      try {
        this.ctx.onWatchError(err, event ?? { type: 'put', key: this.ctx.keys.unkey(ev.kv.key), value: undefined, revision: Number(ev.kv.mod_revision) + this.ctx.offset });
      } catch {
        // An error handler that throws must not break delivery either.
      }
    }
  }

  // The client is about to reconnect: resume right after what was delivered.
  private rewind(): void {
    const w = this.watcher;
    if (w) (w.request as { start_revision?: number | string }).start_revision = this.cursor + 1;
  }

  // etcd cancelled the watch (compacted history, lost permission): tell the owner once, then stop.
  private async fail(err: unknown): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.watcher = undefined;
    const error = await this.ctx.explainCancel(this.prefix, this.cursor + 1, err).catch((e: unknown) => new SkiffError('SKIFF_ERR_UNAVAILABLE', String(e)));
    if (this.onError) this.onError(error);
    else this.ctx.log.error('a store watch stopped', { prefix: this.prefix, err: error });
  }
}

// Parsed per delivery, so one watcher mutating its event cannot change what another sees.
function toEvent(ctx: EtcdWatchContext, ev: IEvent): WatchEvent<unknown> {
  const key = ctx.keys.unkey(ev.kv.key);
  const revision = Number(ev.kv.mod_revision) + ctx.offset;
  // etcd sends prev_kv unless that version was compacted away meanwhile; then there is none to give.
  const prev = ev.prev_kv;
  if (ev.type === 'Delete') {
    const gone = prev ? JSON.parse(prev.value.toString('utf8')) : undefined;
    return { type: 'delete', key, value: gone, prevValue: gone, revision };
  }
  const value = JSON.parse(ev.kv.value.toString('utf8'));
  // version 1 is the first put since the key was (re)created.
  if (ev.kv.version === '1') return { type: 'put', key, value, revision, created: true };
  const event: WatchEvent<unknown> = { type: 'put', key, value, revision };
  // Parsed only if the watcher reads it (the informer never does).
  return prev ? lazyPrevValue(event, () => prev.value.toString('utf8')) : event;
}

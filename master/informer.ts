/**
 * Informers: an in-memory cache of every object, fed by one store watch, with change handlers per
 * kind (client-go's SharedInformer at edge scale). Controllers read from here and write through
 * Objects; handlers only queue keys.
 */
import { applyDefaults, kinds, type KObject, type Logger } from '../protocol/index.js';
import type { Store, Watch, WatchEvent } from './store/types.js';

/** A change handler: `old` undefined on add, `obj` undefined on delete. */
export type ChangeHandler = (obj: KObject | undefined, old: KObject | undefined) => void;

const pluralToKind = new Map<string, string>();

/** Kind of a store key `/registry/{plural}/...`. */
function kindOfKey(key: string): string | undefined {
  const plural = key.split('/')[2];
  if (pluralToKind.size !== Object.keys(kinds).length) {
    pluralToKind.clear();
    for (const k of Object.values(kinds)) pluralToKind.set(k.plural, k.kind);
  }
  return pluralToKind.get(plural);
}

/** `namespace/name` or `name`. */
export function cacheKey(namespace: string | undefined, name: string): string {
  return namespace ? `${namespace}/${name}` : name;
}

/** The shared cache of all objects. */
export class Informers {
  private readonly cache = new Map<string, Map<string, KObject>>();
  private readonly handlers = new Map<string, ChangeHandler[]>();
  private readonly uids = new Set<string>();
  private watch?: Watch;
  private revisionWaiters: { revision: number; resolve: () => void }[] = [];
  /** The store revision the cache reflects. */
  revision = 0;

  constructor(
    private readonly store: Store,
    private readonly log: Logger,
  ) {}

  /** Lists everything and starts watching; resolves when the cache is filled. */
  async start(): Promise<void> {
    const { entries, revision } = await this.store.list<KObject>('/registry/');
    for (const e of entries) {
      const kind = kindOfKey(e.key);
      if (!kind) continue;
      applyDefaults(e.value).metadata.resourceVersion = String(e.modRevision);
      this.bucket(kind).set(cacheKey(e.value.metadata.namespace, e.value.metadata.name), e.value);
      if (e.value.metadata.uid) this.uids.add(e.value.metadata.uid);
    }
    this.revision = revision;
    this.watch = this.store.watch<KObject>('/registry/', revision, (ev) => this.onEvent(ev));
  }

  /** Resolves once the cache reflects store revision `revision` (a controller's own write). */
  waitForRevision(revision: number, timeoutMs = 5000): Promise<void> {
    if (this.revision >= revision) return Promise.resolve();
    return new Promise((resolve) => {
      const w = { revision, resolve };
      this.revisionWaiters.push(w);
      // Never hang a controller on a lost event: give up after the timeout (the next sync corrects).
      setTimeout(() => {
        this.revisionWaiters = this.revisionWaiters.filter((x) => x !== w);
        resolve();
      }, timeoutMs).unref();
    });
  }

  /** Stops watching. */
  stop(): void {
    this.watch?.close();
  }

  /** Registers a handler for a kind; it is called for every object already cached (as adds). */
  on(kind: string, handler: ChangeHandler): void {
    const list = this.handlers.get(kind) ?? [];
    list.push(handler);
    this.handlers.set(kind, list);
    for (const o of this.bucket(kind).values()) handler(o, undefined);
  }

  /** True when an object with this uid exists (owner checks of the garbage collector). */
  hasUid(uid: string): boolean {
    return this.uids.has(uid);
  }

  /** Removes a handler registered with `on`. */
  off(kind: string, handler: ChangeHandler): void {
    this.handlers.set(kind, (this.handlers.get(kind) ?? []).filter((h) => h !== handler));
  }

  /** A cached object (do not mutate it). */
  get<T extends KObject = KObject>(kind: string, namespace: string | undefined, name: string): T | undefined {
    return this.bucket(kind).get(cacheKey(namespace, name)) as T | undefined;
  }

  /** Cached objects of a kind, optionally in one namespace (do not mutate them). */
  list<T extends KObject = KObject>(kind: string, namespace?: string): T[] {
    const all = [...this.bucket(kind).values()] as T[];
    return namespace ? all.filter((o) => o.metadata.namespace === namespace) : all;
  }

  private bucket(kind: string): Map<string, KObject> {
    let b = this.cache.get(kind);
    if (!b) this.cache.set(kind, (b = new Map()));
    return b;
  }

  private onEvent(ev: WatchEvent<KObject>): void {
    this.revision = ev.revision;
    const kind = kindOfKey(ev.key);
    if (!kind) return this.releaseWaiters(ev.revision);
    const b = this.bucket(kind);
    const k = cacheKey(ev.value.metadata.namespace, ev.value.metadata.name);
    const old = b.get(k);
    let obj: KObject | undefined;
    if (ev.type === 'put') {
      obj = applyDefaults(ev.value);
      obj.metadata.resourceVersion = String(ev.revision);
      b.set(k, obj);
      if (obj.metadata.uid) this.uids.add(obj.metadata.uid);
    } else {
      b.delete(k);
      if (ev.value.metadata.uid) this.uids.delete(ev.value.metadata.uid);
    }
    for (const h of this.handlers.get(kind) ?? []) {
      try {
        h(obj, old);
      } catch (err) {
        this.log.error('handler failed', { kind, err });
      }
    }
    this.releaseWaiters(ev.revision);
  }

  private releaseWaiters(revision: number): void {
    if (this.revisionWaiters.length === 0) return;
    const ready = this.revisionWaiters.filter((w) => w.revision <= revision);
    this.revisionWaiters = this.revisionWaiters.filter((w) => w.revision > revision);
    for (const w of ready) w.resolve();
  }
}

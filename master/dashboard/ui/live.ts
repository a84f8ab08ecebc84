/**
 * The cluster as the dashboard sees it: one `watch` per kind (every namespace) keeps a map of objects up
 * to date, node usage and its last hour come from `top` every 15 s, and listeners hear of changes at most
 * ten times a second (a burst of 1,000 pod events renders once). Secrets are never watched: the dashboard
 * shows no Secret data whatever the token may read.
 */
import type { Session } from './api.js';

/** The kinds the dashboard follows. */
export const watchedKinds = ['Node', 'Pod', 'Deployment', 'ReplicaSet', 'DaemonSet', 'Job', 'CronJob', 'Service', 'Endpoints', 'Event'] as const;
export type WatchedKind = (typeof watchedKinds)[number];

/** A node's usage now and over the last hour (the `top` verb with history). */
export interface NodeUsage {
  cpuMilli: number;
  memoryBytes: number;
  cpuPercent?: number;
  memoryPercent?: number;
  history: { t: number; cpuMilli: number; memoryBytes: number }[];
}

/** What `whoami` answers. */
export interface Me {
  name: string;
  role: string;
  access?: 'view' | 'edit' | 'admin';
  verbs: string[];
}

const usageEveryMs = 10_000;
const renderEveryMs = 100;

/** `namespace/name` or `name`. */
export function keyOf(o: { metadata: { namespace?: string; name: string } }): string {
  return o.metadata.namespace ? `${o.metadata.namespace}/${o.metadata.name}` : o.metadata.name;
}

/** The live state of the cluster. */
export class Live {
  readonly objects = new Map<WatchedKind, Map<string, any>>(watchedKinds.map((k) => [k, new Map()]));
  /** Kinds whose first objects arrived (a table shows "loading" until then). */
  readonly loaded = new Set<WatchedKind>();
  usage = new Map<string, NodeUsage>();
  connected = true;
  me?: Me;
  private readonly listeners = new Set<() => void>();
  private cancels: (() => void)[] = [];
  private timer?: ReturnType<typeof setTimeout>;
  private usageTimer?: ReturnType<typeof setInterval>;

  constructor(readonly session: Session) {
    session.onConnection((up) => {
      this.connected = up;
      if (up) this.start();
      this.changed();
    });
  }

  /** May the token use `verb`? (The master decides anyway; this only hides buttons.) */
  may(verb: string): boolean {
    return this.me?.verbs.includes(verb) ?? false;
  }

  /** The objects of a kind. */
  list(kind: WatchedKind): any[] {
    return [...this.objects.get(kind)!.values()];
  }

  /** Starts (or restarts, after a reconnect) every watch and the usage poll. */
  async start(): Promise<void> {
    this.stop();
    this.me = await this.session.request<Me>('whoami').catch(() => this.me);
    for (const kind of watchedKinds) {
      const map = this.objects.get(kind)!;
      map.clear();
      this.loaded.delete(kind);
      this.cancels.push(
        this.session.stream('watch', { kind, allNamespaces: true }, (res) => {
          const e = res.event;
          if (!e?.object?.metadata) return;
          if (e.type === 'DELETED') map.delete(keyOf(e.object));
          else map.set(keyOf(e.object), e.object);
          this.loaded.add(kind);
          this.changed();
        }),
      );
      // An empty kind sends no ADDED: a list tells the table it is loaded (and empty).
      void this.session.request<{ items: unknown[] }>('list', { kind, allNamespaces: true }).then((l) => {
        if (l.items.length === 0) this.loaded.add(kind);
        this.changed();
      }, () => undefined);
    }
    void this.pollUsage();
    this.usageTimer = setInterval(() => void this.pollUsage(), usageEveryMs);
  }

  /** Ends every stream. */
  stop(): void {
    for (const c of this.cancels.splice(0)) c();
    clearInterval(this.usageTimer);
  }

  /** Calls `fn` after changes (batched); returns the unsubscribe. */
  subscribe(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private async pollUsage(): Promise<void> {
    try {
      const { items } = await this.session.request<{ items: (NodeUsage & { name: string })[] }>('top', { kind: 'Node', history: true });
      this.usage = new Map(items.map((i) => [i.name, i]));
      this.changed();
    } catch {
      // no samples yet, or the token may not use top: the charts stay empty
    }
  }

  private changed(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      for (const l of this.listeners) l();
    }, renderEveryMs);
  }
}

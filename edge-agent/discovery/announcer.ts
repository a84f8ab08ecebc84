/**
 * The agent's LAN announcer: follows the retained `services/{ns}/{name}` messages (the same ones the proxy
 * reads) and keeps exactly the DNS-SD instances `announcementsOf` says this node owns published; everything
 * else is withdrawn with a goodbye — when the Service is deleted, loses its ready endpoints, moves to
 * another announcer, or the agent stops. Messages are handled one at a time, in arrival order.
 */
import { decodeObject } from '../../protocol/codec.js';
import type { Logger } from '../log.js';
import { checkServiceMessage } from '../proxy/message.js';
import { publish, type HostRecord, type Published } from './publisher.js';
import { announcementsOf, type Announcement } from './records.js';

/** The publisher `ServiceAnnouncer` uses; tests may pass their own to observe it without multicast. */
export type PublishFn = (a: Announcement, host: HostRecord, log: Logger) => Published;

/** Announces this node's share of the cluster's Services on the LAN. */
export class ServiceAnnouncer {
  /** Per Service key `ns/name`: what is published, by `type/name` of the instance. */
  private readonly published = new Map<string, Map<string, Published>>();
  private readonly seen = new Set<string>();
  private chain: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly node: string,
    private readonly host: HostRecord,
    private readonly log: Logger,
    private readonly publishFn: PublishFn = publish,
  ) {}

  /** A message on `services/{namespace}/{name}`; an empty payload is a deleted Service. Never throws. */
  handle(namespace: string, name: string, payload: Buffer): Promise<void> {
    return this.enqueue(async () => {
      const key = `${namespace}/${name}`;
      this.seen.add(key);
      if (payload.length === 0) return this.sync(key, []);
      let checked: ReturnType<typeof checkServiceMessage>;
      try {
        checked = checkServiceMessage(decodeObject(payload).value, namespace, name);
      } catch (err) {
        checked = { ok: false, error: (err as Error).message };
      }
      if (!checked.ok) return this.log.debug(`service ${key}: not announced: ${checked.error}`);
      await this.sync(key, announcementsOf(checked.msg, this.node));
    });
  }

  /** Forgets which Services were confirmed: the retained messages after a (re)subscription confirm them again. */
  beginResync(): void {
    this.seen.clear();
  }

  /** Withdraws Services no retained message confirmed since `beginResync` (deleted while the agent was away). */
  endResync(): Promise<void> {
    return this.enqueue(async () => {
      for (const key of [...this.published.keys()]) if (!this.seen.has(key)) await this.sync(key, []);
    });
  }

  /** The published instances, `type/name` sorted: what a browser on the LAN should see from this node. */
  instances(): string[] {
    return [...this.published.values()].flatMap((m) => [...m.keys()]).sort();
  }

  /** Withdraws everything (goodbye packets) and stops. */
  async close(): Promise<void> {
    this.closed = true;
    await this.enqueue(async () => {
      for (const key of [...this.published.keys()]) await this.sync(key, []);
    });
  }

  private enqueue(fn: () => Promise<void>): Promise<void> {
    this.chain = this.chain.then(fn).catch((err) => this.log.error(`${(err as Error).message}`));
    return this.chain;
  }

  /** Makes the published instances of `key` equal `wanted`: unchanged ones stay, changed ones are re-published. */
  private async sync(key: string, wanted: Announcement[]): Promise<void> {
    if (this.closed) wanted = [];
    const have = this.published.get(key) ?? new Map<string, Published>();
    const want = new Map<string, Announcement>(wanted.map((a) => [`${a.type}/${a.name}`, a]));
    for (const [id, p] of [...have]) {
      const w = want.get(id);
      if (w && JSON.stringify(w) === JSON.stringify(p.announcement)) continue;
      have.delete(id);
      await p.stop();
      if (!w) this.log.info(`service ${key}: withdrew _${p.announcement.type}._tcp instance "${p.announcement.name}"`);
    }
    for (const [id, a] of want) {
      if (have.has(id)) continue;
      have.set(id, this.publishFn(a, this.host, this.log));
      this.log.info(`service ${key}: announcing _${a.type}._tcp instance "${a.name}" on ${this.host.host}:${a.port}`);
    }
    if (have.size) this.published.set(key, have);
    else this.published.delete(key);
  }
}

/**
 * The master's side of an external broker (`--broker`, docs/ha.md): one MQTT client connection with the masters'
 * account, standing where the embedded aedes stands — it publishes what the master publishes and hands what
 * clients publish to the same inbox, with the publisher's identity read from the topic (mapping.ts). Which master
 * gets what:
 * - every master: agents' metrics (so a new leader's autoscalers have samples at once) and RPC answers;
 * - every master, each answering only the client sessions it owns (serveApi): API requests, applies and the
 *   clients' `gone` notices. One master per client session — a stream (watch, logs -f) and the exec input that
 *   follows it must reach the master that opened it, and an MQTT shared subscription (`$share/...`) would hand
 *   each message to any master — so every master receives every request and the owner, by rendezvous hashing
 *   over the live masters (ha/members.ts), answers; sessions that move have their streams ended (sessions.ts);
 * - the leader only (setLeading): node status, leases, pod reports, certificate requests and joins.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { ROOT, SkiffError, topics, type Logger } from '../../protocol/index.js';
import { rendezvousOwner, type Ownership } from '../ha/members.js';
import type { Identity } from '../broker/acl.js';
import type { Inbound } from '../broker/index.js';
import type { Credentials } from '../credentials.js';
import { ExternalAccounts } from './accounts.js';
import { DynsecAdmin } from './dynsec.js';
import { holderOf, mapInbound, mapOutbound, type Lookups } from './mapping.js';
import { SessionStreams } from './sessions.js';
import { describeBroker, type BrokerLocation } from './url.js';

/** Every master, each message. */
const everyMaster = [`${ROOT}/nodes/+/rpc/+/res`, `${ROOT}/nodes/+/metrics`];
/** Every master; the owner of the session answers. */
const apiTopics = [`${ROOT}/users/+/+/req`, `${ROOT}/users/+/apply`, `${ROOT}/users/+/+/gone`];
const userTopicPrefix = `${ROOT}/users/`;
/** The leader. */
const leaderOnly = [
  `${ROOT}/nodes/+/status`,
  `${ROOT}/nodes/+/lease`,
  `${ROOT}/nodes/+/pods`,
  `${ROOT}/nodes/+/csr`,
  `${ROOT}/joins/+/+/req`,
];

/** What the link needs. */
export interface ExternalBrokerOptions {
  location: BrokerLocation;
  /** This master's name: its MQTT client id is `skiff-master-{name}`. */
  name: string;
  credentials: Credentials;
  log: Logger;
  onMessage: (m: Inbound) => void;
  onClientGone: (clientId: string, identity: Identity) => void;
}

/** The master connected to an external broker. */
export class ExternalBroker {
  /** No listener of the master's own: agents and clients connect to the broker. */
  readonly port = -1;
  readonly tlsPort = -1;
  private readonly joinTags = new Map<string, string>();
  private leading = false;
  /** Which sessions this master answers; none until serveApi. */
  private ownership?: Ownership;
  /** Every session's possibly open streams, to end them when the session moves. */
  readonly streams = new SessionStreams();

  private constructor(
    private readonly client: MqttClient,
    readonly accounts: ExternalAccounts,
    private readonly look: Lookups,
    readonly location: BrokerLocation,
    private readonly o: ExternalBrokerOptions,
  ) {}

  /** Connects (within 15 s), attaches to dynamic security, makes the admin's and joiners' accounts, subscribes. */
  static async connect(o: ExternalBrokerOptions): Promise<ExternalBroker> {
    const b = o.location;
    const client = mqtt.connect(b.url, {
      username: b.username,
      password: b.password,
      clientId: `skiff-master-${o.name}`,
      protocolVersion: 4,
      clean: true,
      reconnectPeriod: 1000,
      connectTimeout: 15_000,
      ...(b.ca ? { ca: b.ca } : {}),
      rejectUnauthorized: true,
    });
    client.on('error', (err) => o.log.warn('external broker', { broker: describeBroker(b), err }));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new SkiffError('SKIFF_ERR_UNAVAILABLE', `--broker: cannot connect to ${describeBroker(b)} within 15 s`)), 15_000);
      client.once('connect', () => (clearTimeout(timer), resolve()));
      client.once('error', (err: Error & { code?: number }) => {
        if (err.code === 4 || err.code === 5) (clearTimeout(timer), reject(new SkiffError('SKIFF_ERR_UNAUTHORIZED', `--broker: ${describeBroker(b)} refused the masters' account (${err.message})`)));
      });
    }).catch((err) => {
      client.end(true);
      throw err;
    });
    const dynsec = await DynsecAdmin.attach(client);
    const accounts = new ExternalAccounts(dynsec, o.credentials, o.log);
    const look: Lookups = {
      user: (name) => {
        if (name === 'admin') return { role: 'admin', name: 'admin' };
        const scope = o.credentials.tokenScope(name);
        return scope && { role: 'user', name, ...scope };
      },
      joinToken: (tag) => accounts.tokenOfTag(tag),
    };
    const link = new ExternalBroker(client, accounts, look, b, o);
    client.on('message', (topic, payload) => link.received(topic, payload));
    try {
      await accounts.start();
      await client.subscribeAsync(everyMaster, { qos: 1 });
    } catch (err) {
      client.end(true);
      throw err;
    }
    return link;
  }

  /** One message from the broker: a client session's goes on only at its owner. */
  private received(topic: string, payload: Buffer): void {
    const m = mapInbound(topic, payload, this.look, this.joinTags);
    if (!m) return;
    try {
      if ('gone' in m) {
        this.streams.gone(m.gone.clientId);
        if (this.ownership?.mine(m.gone.clientId)) this.o.onClientGone(m.gone.clientId, m.gone.identity);
        return;
      }
      if (topic.startsWith(userTopicPrefix)) {
        this.streams.request(m.inbound.clientId, payload);
        if (!this.ownership?.mine(m.inbound.clientId)) return;
      }
      this.o.onMessage(m.inbound);
    } catch (err) {
      this.o.log.error('message handler failed', { topic, err });
    }
  }

  /** Starts answering the API client sessions `ownership` gives this master (every master receives them all). */
  async serveApi(ownership: Ownership): Promise<void> {
    this.ownership = ownership;
    await this.client.subscribeAsync(apiTopics, { qos: 1 });
  }

  /**
   * The live masters changed from `before` to `after`: the streams of the sessions that moved end with
   * SKIFF_ERR_GONE — sent by their old owner when that is this master (which also ends them here), or by the new
   * owner when the old one left — so their clients open them again on the new owner.
   */
  membersChanged(before: ReadonlySet<string>, after: ReadonlySet<string>): void {
    const self = this.o.name;
    const was = (c: string) => rendezvousOwner(c, before);
    const now = (c: string) => rendezvousOwner(c, after);
    const moved = this.streams.take(
      (c) => was(c) !== undefined && was(c) !== now(c),
      (c) => was(c) === self || (now(c) === self && !after.has(was(c)!)),
      (c) => `the master serving this stream (${was(c)}) ${after.has(was(c)!) ? 'handed the session to another master' : 'left'}; open it again (list again and watch from there)`,
    );
    for (const { clientId, answers } of moved) {
      const identity = this.holderOf(clientId);
      if (!identity) continue;
      if (was(clientId) === self) this.o.onClientGone(clientId, identity);
      for (const a of answers) void this.publish(topics.apiRes(clientId), a).catch(() => undefined);
    }
  }

  /** Takes (or drops) the leader's subscriptions. Retained node statuses arrive again on taking them. */
  async setLeading(on: boolean): Promise<void> {
    if (on === this.leading) return;
    this.leading = on;
    if (on) await this.client.subscribeAsync(leaderOnly, { qos: 1 });
    else await this.client.unsubscribeAsync(leaderOnly);
  }

  /** Publishes from the master, at the topic the external broker's clients use. */
  async publish(topic: string, payload: Buffer, opts: { qos?: 0 | 1; retain?: boolean } = {}): Promise<void> {
    const to = mapOutbound(topic, this.joinTags);
    if (to === undefined) return;
    await this.client.publishAsync(to, payload, { qos: opts.qos ?? 1, retain: opts.retain ?? false });
  }

  /** The identity of the API client the master knows as `clientId`, while its account exists. */
  holderOf(clientId: string): Identity | undefined {
    return holderOf(clientId, this.look);
  }

  /** Deleting an account (accounts.ts) disconnects its clients on the broker; nothing to do here. */
  kick(_match: (id: Identity) => boolean): number {
    return 0;
  }

  /** The broker knows its clients; the master does not count them. */
  clientsByRole(): Map<Identity['role'], number> {
    return new Map();
  }

  /** MQTT over WebSocket on the master's HTTPS port is the embedded broker's; with an external one, use the broker's own. */
  accept(conn: { destroy(): void }): void {
    conn.destroy();
  }

  /** The master's certificate is not the broker's. */
  setServerCert(): void {}

  /** Disconnects. */
  async close(): Promise<void> {
    await this.client.endAsync();
  }
}

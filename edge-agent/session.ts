/**
 * The agent's MQTT session: MQTT 3.1.1 (the master's aedes speaks nothing else), a Will that marks the node
 * offline, and reconnects with "full jitter" exponential back-off (a uniform delay in [0, min(maxMs,
 * initialMs × 2^attempt)]), each attempt a fresh client so a new password (after a re-join) or a new
 * certificate (after a renewal) takes effect. Over mqtts:// it verifies the master against the cluster CA and
 * presents the node certificate (tls.ts).
 */
import { EventEmitter } from 'node:events';
import { connect, type IClientOptions, type MqttClient } from 'mqtt';
import { tlsFailure } from '../protocol/tls.js';
import type { Logger } from './log.js';
import { mqttTlsOptions, type NodeTls } from './tls.js';

/** How the session connects. */
export interface SessionOptions {
  url: string;
  clientId: string;
  username: string;
  keepaliveSeconds: number;
  will: { topic: string; payload: Buffer };
  reconnect: { initialMs: number; maxMs: number };
  log: Logger;
}

/** CONNACK return codes 4 and 5 of MQTT 3.1.1 [MQTT-3.2.2-3]: the broker refused who we are. */
const AUTH_REFUSED = new Set([4, 5]);

/**
 * The next reconnect delay, "full jitter" (Brooker, "Exponential Backoff and Jitter", AWS 2015): uniform in
 * [0, min(max, initial × 2^attempt)]. A fleet that lost its master spreads its retries over the whole window
 * (no two agents in step), and once the master is back an agent waits cap/3 on average and the cap at most;
 * the ±50 % jitter it replaces waited 0.54 × cap on average and 1.5 × cap at most. docs/self-healing.md has
 * the storm figures behind the default cap (5 s).
 */
export function backoffDelay(attempt: number, initialMs: number, maxMs: number, random = Math.random): number {
  const ceiling = Math.min(maxMs, initialMs * 2 ** Math.min(attempt, 30));
  return Math.round(ceiling * random());
}

/** The events of a Session, with their arguments. */
export interface SessionEvents {
  /** On every (re)connect. */
  connect: [client: MqttClient];
  /** When a connection ends. */
  offline: [];
  /** When the broker refuses the credentials. */
  authRefused: [message: string];
  message: [topic: string, payload: Buffer];
}

/** An MQTT session that reconnects with back-off; its events are SessionEvents. */
export class Session extends EventEmitter<SessionEvents> {
  private client?: MqttClient;
  private timer?: NodeJS.Timeout;
  private attempt = 0;
  private stopped = false;
  private password = '';
  private tls?: NodeTls;
  /** The last TLS failure logged, so a master that keeps failing the same way is not logged at every retry. */
  private lastTlsFailure = '';
  /** When the last message was handed to the connection (ms since epoch): any message proves liveness (telemetry.ts). */
  lastPublishAt = 0;

  constructor(private readonly o: SessionOptions) {
    super();
  }

  /** True while connected. */
  get connected(): boolean {
    return this.client?.connected === true;
  }

  /** Starts connecting with `password`; reconnects until `stop`. */
  start(password: string): void {
    this.password = password;
    this.stopped = false;
    this.open();
  }

  /** Disconnects and stops reconnecting until `restart` (while the agent re-joins). */
  pause(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.drop();
  }

  /** The TLS material of the next connections (mqtts:// only). */
  setTls(tls: NodeTls | undefined): void {
    this.tls = tls;
  }

  /** Reconnects at once with the current password and TLS material (a renewed certificate). */
  reconnect(): void {
    if (!this.stopped) this.restart(this.password);
  }

  /** Replaces the password and reconnects at once. */
  restart(password: string): void {
    this.password = password;
    this.stopped = false;
    clearTimeout(this.timer);
    this.drop();
    this.attempt = 0;
    this.open();
  }

  private open(): void {
    if (this.stopped) return;
    const opts: IClientOptions = {
      ...(this.tls && this.o.url.startsWith('mqtts:') ? mqttTlsOptions(this.tls) : {}),
      clientId: this.o.clientId,
      username: this.o.username,
      password: this.password,
      protocolVersion: 4,
      keepalive: this.o.keepaliveSeconds,
      clean: true,
      reconnectPeriod: 0, // this class reconnects, with jitter
      connectTimeout: 10_000,
      // mqtt-packet's number cache is 65,536 two-byte Buffers: 6 MB of heap, a third of the agent's (docs/edge.md).
      writeCache: false,
      will: { topic: this.o.will.topic, payload: this.o.will.payload, qos: 1, retain: true },
    };
    const client = connect(this.o.url, opts);
    this.client = client;
    let up = false;
    client.on('connect', () => {
      // Small writes (acks, reports) must not wait on the broker's delayed ACK (Nagle, ~40 ms).
      (client.stream as { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true);
      up = true;
      this.lastTlsFailure = '';
      this.attempt = 0;
      this.o.log.info(`connected to ${this.o.url} as ${this.o.username}`);
      this.emit('connect', client);
    });
    client.on('message', (topic, payload) => this.emit('message', topic, payload));
    client.on('error', (err: Error & { code?: number | string }) => {
      const tls = tlsFailure(err, this.o.url, 'the cluster CA this node pinned at join');
      if (typeof err.code === 'number' && AUTH_REFUSED.has(err.code)) {
        this.emit('authRefused', err.message);
      } else if (tls && tls !== this.lastTlsFailure) {
        this.lastTlsFailure = tls;
        this.o.log.error(`${tls}; retrying`);
      } else this.o.log.debug(`mqtt: ${err.message}`);
    });
    client.on('close', () => {
      if (client !== this.client) return;
      client.removeAllListeners('close');
      client.end(true);
      if (up) this.emit('offline');
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.stopped) return;
    const delay = backoffDelay(this.attempt++, this.o.reconnect.initialMs, this.o.reconnect.maxMs);
    this.o.log.debug(`reconnecting in ${delay} ms`);
    this.timer = setTimeout(() => this.open(), delay);
  }

  private drop(): void {
    const c = this.client;
    this.client = undefined;
    if (c) {
      c.removeAllListeners();
      c.on('error', () => {});
      c.end(true);
    }
  }

  /** Publishes when connected; false (and nothing queued) when offline. */
  publish(topic: string, payload: Buffer, qos: 0 | 1, retain = false): boolean {
    const c = this.client;
    if (!c?.connected) return false;
    this.lastPublishAt = Date.now();
    c.publish(topic, payload, { qos, retain }, (err) => {
      if (err) this.o.log.debug(`publish ${topic}: ${err.message}`);
    });
    return true;
  }

  /** Subscribes on the current connection. */
  async subscribe(topics: string[]): Promise<void> {
    const c = this.client;
    if (!c) throw new Error('not connected');
    const granted = await c.subscribeAsync(topics, { qos: 1 });
    const refused = granted.filter((g) => g.qos === 128).map((g) => g.topic);
    if (refused.length) throw new Error(`the broker refused the subscription to ${refused.join(', ')}`);
  }

  /** Disconnects for good: publishes `last` first (the offline status), then sends DISCONNECT. */
  async stop(last?: { topic: string; payload: Buffer }): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    const c = this.client;
    if (!c) return;
    if (c.connected && last) await c.publishAsync(last.topic, last.payload, { qos: 1, retain: true }).catch(() => undefined);
    c.removeAllListeners('close');
    // A clean DISCONNECT, so the broker does not publish the Will; forced after 1 s on a dead link.
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => c.end(true, {}, () => resolve()), 1000);
      c.end(false, {}, () => {
        clearTimeout(t);
        resolve();
      });
    });
    this.client = undefined;
  }
}

/**
 * Shared set-up of the broker fast-path tests (fast-api, fast-lease, fast-metrics, fast-pods): credentials for nodes n1, n2, …
 * (password "cred-<name>") and the admin (token "admin-token"); a tap on the broker queue (which topics went through
 * aedes' path); an administrator watching a topic filter.
 */
import { afterEach, beforeEach } from 'vitest';
import { connectAsync, type MqttClient } from 'mqtt';
import { Broker, type Inbound } from '../../master/broker/index.js';
import type { Credentials } from '../../master/credentials.js';
import { silentLogger } from '../../protocol/index.js';

/** Nodes accept the password `cred-<name>`; the admin token is "admin-token"; no user tokens, no join tokens. */
export const fastPathCredentials = {
  adminToken: 'admin-token',
  verifyNode: (name: string, pw: string) => pw === `cred-${name}`,
  verifyToken: () => undefined,
  joinTokens: { nameOfConnectKey: () => undefined },
} as unknown as Credentials;

/** The topics that go through the broker queue (aedes' path) from now on, in order (empty it with `length = 0`). */
export function tapQueue(broker: Broker): string[] {
  const queued: string[] = [];
  const emit = broker.queue.emit.bind(broker.queue);
  broker.queue.emit = ((p: { topic: string }, cb?: () => void) => (queued.push(p.topic), emit(p as never, cb))) as typeof broker.queue.emit;
  return queued;
}

/** An administrator (client id "watcher") subscribed to `filter`: the topics it receives, in order. */
export async function watchAsAdmin(broker: Broker, filter: string, clients: MqttClient[]): Promise<{ admin: MqttClient; seen: string[] }> {
  const admin = await connectAsync(`mqtt://127.0.0.1:${broker.port}`, { username: 'admin', password: 'admin-token', clientId: 'watcher', protocolVersion: 4, reconnectPeriod: 0 });
  clients.push(admin);
  const seen: string[] = [];
  admin.on('message', (t) => seen.push(t));
  await admin.subscribeAsync(filter, { qos: 0 });
  return { admin, seen };
}

/** What `nodeReportsBroker` gives a test: the broker, what it routed to the master, the nodes it was told alive, the topics that went through its queue, and its mqtt.js clients. */
export interface ReportsBroker {
  broker: Broker;
  routed: Inbound[];
  alive: string[];
  queued: string[];
  clients: MqttClient[];
  /** An mqtt.js client connected as `username` (MQTT 3.1.1, no reconnect), closed after the test. */
  connect(username: string, password: string, clientId?: string): Promise<MqttClient>;
}

/**
 * A broker for the node-report fast-path tests (fast-metrics, fast-pods), started before each test on an ephemeral
 * loopback port with `fastPathCredentials`, and closed after it with its clients. Call it inside a `describe`.
 */
export function nodeReportsBroker(): ReportsBroker {
  const t = { clients: [] as MqttClient[] } as ReportsBroker;
  t.connect = async (username, password, clientId = `skiff-agent-${username}`) => {
    const c = await connectAsync(`mqtt://127.0.0.1:${t.broker.port}`, { username, password, clientId, protocolVersion: 4, reconnectPeriod: 0 });
    t.clients.push(c);
    return c;
  };
  beforeEach(async () => {
    t.routed = [];
    t.alive = [];
    t.broker = await Broker.start({
      port: 0,
      host: '127.0.0.1',
      credentials: fastPathCredentials,
      log: silentLogger,
      onMessage: (m) => void t.routed.push(m),
      onLease: (node) => (t.alive.push(node), false),
    });
    t.queued = tapQueue(t.broker);
  });
  afterEach(async () => {
    await Promise.all(t.clients.splice(0).map((c) => c.endAsync(true).catch(() => undefined)));
    await t.broker.close();
  });
  return t;
}

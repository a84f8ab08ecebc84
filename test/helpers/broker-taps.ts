/**
 * Shared set-up of the broker fast-path tests (fast-api, fast-lease, fast-metrics): credentials for nodes n1, n2, …
 * (password "cred-<name>") and the admin (token "admin-token"); a tap on the broker queue (which topics went through
 * aedes' path); an administrator watching a topic filter.
 */
import { connectAsync, type MqttClient } from 'mqtt';
import type { Broker } from '../../master/broker/index.js';
import type { Credentials } from '../../master/credentials.js';

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

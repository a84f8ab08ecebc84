/**
 * Joining: the first time, the agent connects with the join token as password (client id
 * `skiff-join-<node>`), asks on `join/<node>/req` and gets a node credential on `join/<node>/res`,
 * which it keeps in DATA/credential (mode 0600). Later runs connect with the credential.
 */
import { connect, type MqttClient } from 'mqtt';
import { decodeObject, encode } from '../protocol/codec.js';
import { SkiffError } from '../protocol/errors.js';
import type { JoinRequest, JoinResponse } from '../protocol/messages.js';
import { topics } from '../protocol/topics.js';
import type { AgentConfig } from './config.js';
import { readFacts } from './facts.js';
import { readIfExists, remove, writeFileAtomic } from './fsutil.js';

/** The stored credential, or undefined. */
export async function loadCredential(file: string): Promise<string | undefined> {
  const b = await readIfExists(file);
  const s = b?.toString('utf8').trim();
  return s ? s : undefined;
}

/** Stores the credential atomically, readable by the agent's user only. */
export async function saveCredential(file: string, credential: string): Promise<void> {
  await writeFileAtomic(file, credential + '\n', 0o600);
}

/** Forgets the credential (the next start joins with the token again). */
export async function deleteCredential(file: string): Promise<void> {
  await remove(file);
}

/**
 * Joins the cluster with the join token and returns the credential. Throws SKIFF_ERR_UNAUTHORIZED when the
 * broker refuses the token, SKIFF_ERR_JOIN_REJECTED (or the master's code) on `{ok: false}`, and
 * SKIFF_ERR_TIMEOUT when no answer arrives within joinTimeoutMs (retrying the connection meanwhile).
 */
export async function join(cfg: AgentConfig, token: string): Promise<string> {
  const node = cfg.name;
  const client: MqttClient = connect(cfg.master, {
    clientId: `skiff-join-${node}`,
    username: node,
    password: token,
    protocolVersion: 4,
    clean: true,
    keepalive: cfg.keepaliveSeconds,
    reconnectPeriod: 1000,
    connectTimeout: Math.min(10_000, cfg.joinTimeoutMs),
  });
  try {
    return await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new SkiffError('SKIFF_ERR_TIMEOUT', `join: no answer from the master at ${cfg.master} within ${cfg.joinTimeoutMs >= 1000 ? `${Math.round(cfg.joinTimeoutMs / 1000)} s` : `${cfg.joinTimeoutMs} ms`} (${client.connected ? 'connected, but nothing answered the join request' : 'could not connect'})`)),
        cfg.joinTimeoutMs,
      );
      const fail = (e: Error) => {
        clearTimeout(timer);
        reject(e);
      };
      client.on('error', (err: Error & { code?: number | string }) => {
        if (err.code === 4 || err.code === 5) fail(new SkiffError('SKIFF_ERR_UNAUTHORIZED', `join: the master at ${cfg.master} refused the join token for node "${node}" (${err.message})`));
      });
      client.on('message', (topic, payload) => {
        if (topic !== topics.joinRes(node)) return;
        let res: JoinResponse;
        try {
          res = decodeObject<JoinResponse>(payload).value;
        } catch (err) {
          cfg.logger.warn(`join: dropped an undecodable answer: ${(err as Error).message}`);
          return;
        }
        if (res.ok === true && typeof res.credential === 'string' && res.credential) {
          clearTimeout(timer);
          resolve(res.credential);
        } else if (res.ok === false) {
          const e = SkiffError.fromWire(res.error);
          fail(new SkiffError(e.code === 'SKIFF_ERR_INTERNAL' && !res.error ? 'SKIFF_ERR_JOIN_REJECTED' : e.code, `join rejected: ${e.message}`, e.details));
        } else cfg.logger.warn('join: dropped an answer without ok/credential');
      });
      client.on('connect', () => {
        const req: JoinRequest = { facts: readFacts(), ...(Object.keys(cfg.labels).length ? { labels: { ...cfg.labels } } : {}) };
        client
          .subscribeAsync(topics.joinRes(node), { qos: 1 })
          .then(() => client.publishAsync(topics.joinReq(node), encode(req), { qos: 1 }))
          .catch((err: Error) => cfg.logger.warn(`join: ${err.message}; retrying on reconnect`));
      });
    });
  } finally {
    await client.endAsync(true).catch(() => undefined);
  }
}

/**
 * The CLI's side of the request/response API (DESIGN.md "Wire protocol"): one MQTT 3.1.1 connection
 * with a unique client id, requests on `api/{clientId}/req`, answers on `api/{clientId}/res` matched
 * by id. Streams (watch, logs -f) answer several times with one id, the last with `done: true`.
 */
import { randomBytes } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import { decodeObject, decodeRecords, encode, isTopicLevel, maxRequestBytes, payloadTooLarge, SkiffError, topics, type ApiResponse } from '../protocol/index.js';
import { externalTopics } from '../protocol/external-topics.js';
import { checkMasterIdentity, tlsFailure } from '../protocol/tls.js';
import type { Api, Connection } from './types.js';

type Pending = { onMessage(res: ApiResponse): void; onLost(err: SkiffError): void };

/**
 * Verbs whose answers the client asks for in msgpack records (protocol/records.ts): a list of 10,000 pods is half the
 * bytes and decodes in ~40–55 ms instead of ~90. A master older than the encoding ignores the field and answers plain,
 * which reads the same.
 */
const recordsVerbs: ReadonlySet<string> = new Set(['list']);

/** What a request is sent with besides its id and verb: records asked for the verbs above, unless `params` say otherwise. */
export function requestParams(verb: string, params: Record<string, unknown>): Record<string, unknown> {
  return recordsVerbs.has(verb) ? { encoding: 'records', ...params } : params;
}

/**
 * What an answer said of its own making, when the master adds it (`timing`: SKIFF_API_TIMING=1 on the master, for the
 * scale bench's list probe), with the client's side: when it arrived (wall clock, ms, to a fraction: timeOrigin + now), the result's decode, its bytes.
 * Keyed by the result `request` resolved with.
 */
export const answerTimings = new WeakMap<object, Record<string, number>>();

/** An answer's result: decoded from records when the answer came that way. */
export function resultOf(res: ApiResponse): unknown {
  return res.encoding === 'records' ? decodeRecords(res.result, res.structures, res.strings) : res.result;
}

/** `resultOf`, with the answer's `timing` (when it has one) kept in `answerTimings` for the result. */
export function answerResult(res: ApiResponse): unknown {
  const timing = (res as { timing?: Record<string, number> }).timing;
  if (timing === undefined) return resultOf(res);
  const decoding = performance.now();
  const arrivedAt = performance.timeOrigin + decoding;
  const result = resultOf(res);
  if (result !== null && typeof result === 'object') answerTimings.set(result, { ...timing, arrivedAt, decodeMs: performance.now() - decoding, resultBytes: res.result instanceof Uint8Array ? res.result.length : 0 });
  return result;
}

/** Connects to the master and returns the API; rejects with a one-line SkiffError when it cannot. */
export async function connectApi(conn: Connection): Promise<Api> {
  const clientId = `skiff-cli-${randomBytes(6).toString('hex')}`;
  const client = mqtt.connect(conn.server, {
    // Over TLS the master is checked against the cluster CA (when given): chain, name, serverAuth.
    ...(conn.ca !== undefined ? { ca: conn.ca, checkServerIdentity: checkMasterIdentity } : {}),
    rejectUnauthorized: true,
    // The master's embedded aedes speaks MQTT 3.1.1 only.
    protocolVersion: 4,
    clientId,
    username: conn.user,
    password: conn.token ?? '',
    clean: true,
    reconnectPeriod: 0,
    connectTimeout: conn.timeoutMs,
    // mqtt-packet's number cache (65,536 two-byte Buffers) took ~33 ms of every command's first packet (as the agent's).
    writeCache: false,
  });
  await waitConnected(client, conn);
  // Requests are small writes: without this, one waits on the previous one's delayed ACK (Nagle, ~40 ms).
  (client.stream as { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true);
  // Errors after the connect (ECONNRESET when the master dies) end in 'close', which fails what is pending.
  client.on('error', () => {});
  const pending = new Map<string, Pending>();
  client.on('message', (_topic, payload) => {
    let res: ApiResponse;
    try {
      res = decodeObject<ApiResponse>(payload).value;
    } catch {
      return; // not ours to answer; a malformed response has no id to match
    }
    pending.get(String(res.id))?.onMessage(res);
  });
  client.on('close', () => {
    const err = new SkiffError('SKIFF_ERR_UNAVAILABLE', `lost the connection to the master at ${conn.server}`);
    for (const p of [...pending.values()]) p.onLost(err);
  });
  let external = false;
  try {
    external = await subscribeAnswers(client, clientId, conn.user);
  } catch (err) {
    client.end(true);
    throw new SkiffError('SKIFF_ERR_FORBIDDEN', `the master at ${conn.server} refused user "${conn.user}" the API response topic: ${(err as Error).message}`);
  }
  return new MqttApi(client, clientId, conn, pending, external ? { req: externalTopics.userApiReq(conn.user, clientId), gone: externalTopics.userGone(conn.user, clientId) } : { req: topics.apiReq(clientId) });
}

/**
 * Subscribes to this client's answers: `api/{clientId}/res` on the master's own broker; refused there (SUBACK 128),
 * `users/{user}/{clientId}/res`, the form an external broker's per-account ACL allows (protocol/external-topics.ts,
 * docs/ha.md). True when the external form is in use.
 */
async function subscribeAnswers(client: MqttClient, clientId: string, user: string): Promise<boolean> {
  try {
    await client.subscribeAsync(topics.apiRes(clientId), { qos: 1 });
    return false;
  } catch (err) {
    if (!isTopicLevel(user)) throw err;
    await client.subscribeAsync(externalTopics.userApiRes(user, clientId), { qos: 1 });
    return true;
  }
}

function waitConnected(client: MqttClient, conn: Connection): Promise<void> {
  return new Promise((resolve, reject) => {
    const fail = (err: SkiffError) => {
      clearTimeout(timer);
      client.removeAllListeners('connect');
      client.end(true);
      reject(err);
    };
    const timer = setTimeout(() => fail(timeoutError(conn)), conn.timeoutMs);
    client.once('connect', () => {
      clearTimeout(timer);
      client.removeAllListeners('error');
      resolve();
    });
    client.once('error', (err) => fail(connectError(err, conn)));
    client.once('close', () => fail(new SkiffError('SKIFF_ERR_UNAVAILABLE', `cannot connect to the master at ${conn.server}: the connection was closed`)));
  });
}

/**
 * True when the master ended a stream because this client fell behind (SKIFF_ERR_GONE, Kubernetes' 410 Gone):
 * nothing is wrong with the request; list (or fetch) again and watch from there.
 */
export function streamDropped(err: unknown): boolean {
  return err instanceof SkiffError && err.code === 'SKIFF_ERR_GONE';
}

/** The timeout error, worded for a person: which server, how long. */
export function timeoutError(conn: Connection): SkiffError {
  return new SkiffError('SKIFF_ERR_TIMEOUT', `no answer from the master at ${conn.server} within ${formatSeconds(conn.timeoutMs)}`);
}

function formatSeconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

/** One line for a failed connect: refused, unknown host, bad credentials. */
function connectError(err: Error & { code?: string | number }, conn: Connection): SkiffError {
  const at = `the master at ${conn.server}`;
  switch (err.code) {
    case 'ECONNREFUSED':
      return new SkiffError('SKIFF_ERR_UNAVAILABLE', `cannot connect to ${at}: connection refused (is it running? "skiff master" or "skiff up" starts one)`);
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new SkiffError('SKIFF_ERR_UNAVAILABLE', `cannot connect to ${at}: unknown host`);
    // CONNACK return codes [MQTT-3.2.2-3]: 3 server unavailable, 4 bad user name or password, 5 not authorized.
    case 3:
      return new SkiffError('SKIFF_ERR_UNAVAILABLE', `${at} refused the connection as unavailable (CONNACK 3): user "${conn.user}" may hold as many connections as it may (each watch, logs -f and dashboard tab holds one), or the master is busy; close some or try again`);
    case 4:
    case 5: {
      const hint = conn.token ? '' : ' (no token given: use --token, SKIFF_TOKEN or a config file)';
      return new SkiffError('SKIFF_ERR_UNAUTHORIZED', `${at} refused the credentials of user "${conn.user}"${hint}`);
    }
    default: {
      const tls = tlsFailure(err, conn.server, conn.ca !== undefined ? 'the cluster CA in the client config (certificate-authority-data or --certificate-authority)' : 'a CA this machine trusts (no cluster CA given: certificate-authority-data in the client config, or --certificate-authority FILE)');
      if (tls) return new SkiffError('SKIFF_ERR_UNAUTHORIZED', tls);
      // mqtt.js gives up with "connack timeout" when the server takes TCP but never answers MQTT.
      if (/connack timeout/i.test(err.message)) return timeoutError(conn);
      return new SkiffError('SKIFF_ERR_UNAVAILABLE', `cannot connect to ${at}: ${err.message}`);
    }
  }
}

class MqttApi implements Api {
  private seq = 0;
  constructor(
    private readonly client: MqttClient,
    private readonly clientId: string,
    private readonly conn: Connection,
    private readonly pending: Map<string, Pending>,
    /** Where requests go, and (external broker) where the client says it leaves. */
    private readonly to: { req: string; gone?: string },
  ) {}

  private nextId(): string {
    return `${Date.now().toString(36)}-${++this.seq}`;
  }

  private send(id: string, verb: string, params: Record<string, unknown>): Promise<unknown> {
    const payload = encode({ ...params, id, verb });
    // The master reads no request over its limit (protocol/limits.ts): say so here, with the size.
    const tooLarge = payloadTooLarge(`${verb} request`, payload.length, maxRequestBytes);
    if (tooLarge) return Promise.reject(new SkiffError('SKIFF_ERR_BAD_REQUEST', tooLarge));
    return this.client.publishAsync(this.to.req, payload, { qos: 1 });
  }

  request<T>(verb: string, params: Record<string, unknown> = {}): Promise<T> {
    const id = this.nextId();
    return new Promise<T>((resolve, reject) => {
      const finish = (fn: () => void) => {
        clearTimeout(timer);
        this.pending.delete(id);
        fn();
      };
      const timer = setTimeout(() => finish(() => reject(timeoutError(this.conn))), this.conn.timeoutMs);
      this.pending.set(id, {
        onMessage: (res) =>
          finish(() => {
            if (!res.ok) return reject(SkiffError.fromWire(res.error!));
            let result: unknown;
            try {
              result = answerResult(res);
            } catch (err) {
              return reject(err);
            }
            resolve(result as T);
          }),
        onLost: (err) => finish(() => reject(err)),
      });
      this.send(id, verb, requestParams(verb, params)).catch((err: Error) =>
        finish(() => reject(err instanceof SkiffError ? err : new SkiffError('SKIFF_ERR_UNAVAILABLE', `cannot send to the master: ${err.message}`))),
      );
    });
  }

  stream(verb: string, params: Record<string, unknown>, onMessage: (res: ApiResponse) => void, signal?: AbortSignal, onOpen?: (id: string) => void): Promise<void> {
    const id = this.nextId();
    onOpen?.(id);
    return new Promise<void>((resolve, reject) => {
      const finish = (fn: () => void) => {
        this.pending.delete(id);
        signal?.removeEventListener('abort', onAbort);
        fn();
      };
      const onAbort = () => {
        finish(resolve);
        // Best effort: tell the master to stop streaming; the connection closes right after anyway.
        this.send(this.nextId(), 'cancel', { ref: id }).catch(() => {});
      };
      if (signal?.aborted) return resolve();
      signal?.addEventListener('abort', onAbort, { once: true });
      this.pending.set(id, {
        onMessage: (res) => {
          if (!res.ok) return finish(() => reject(SkiffError.fromWire(res.error!)));
          onMessage(res);
          if (res.done) finish(resolve);
        },
        onLost: (err) => finish(() => reject(err)),
      });
      this.send(id, verb, params).catch((err: Error) =>
        finish(() => reject(err instanceof SkiffError ? err : new SkiffError('SKIFF_ERR_UNAVAILABLE', `cannot send to the master: ${err.message}`))),
      );
    });
  }

  notify(verb: string, params: Record<string, unknown>): void {
    // QoS 1 on the one request topic: pieces arrive in the order sent, after the request that opened the stream.
    this.send(this.nextId(), verb, params).catch(() => undefined);
  }

  async close(): Promise<void> {
    // Acks for messages still arriving (a watch being cancelled) may be written after the broker has
    // closed the socket on our DISCONNECT: that EPIPE is expected, not an error to crash on.
    this.client.on('error', () => {});
    // An external broker tells the master nothing of a client leaving: say it, so its streams end there.
    if (this.to.gone && this.client.connected) await this.client.publishAsync(this.to.gone, Buffer.alloc(0), { qos: 1 }).catch(() => undefined);
    await this.client.endAsync();
  }
}

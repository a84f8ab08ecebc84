/**
 * The dashboard's connection: MQTT over WebSocket to the master's `/mqtt` (mqtt.js, MQTT 3.1.1), user name
 * and token as the CONNECT's credentials — the browser is one more API client, with the same verbs and the
 * same ACL as `skiff`. Requests are JSON on `skiff/v1/api/{clientId}/req`; answers (and streams: watch,
 * logs, exec) come back on `.../res`, matched by id.
 */
import mqtt, { type MqttClient } from 'mqtt';

/** An answer or a piece of a stream (protocol/messages.ts ApiResponse). */
export interface ApiResponse {
  id: string;
  ok: boolean;
  result?: unknown;
  error?: { code: string; message: string };
  event?: { type: 'ADDED' | 'MODIFIED' | 'DELETED'; object: any };
  chunk?: string;
  stream?: 'stdout' | 'stderr';
  done?: boolean;
}

/** Why a connection failed: the master refused the token, or could not be reached. */
export class ConnectError extends Error {
  constructor(
    message: string,
    readonly refused: boolean,
  ) {
    super(message);
  }
}

/** A connected session. */
export interface Session {
  readonly user: string;
  request<T = unknown>(verb: string, params?: Record<string, unknown>): Promise<T>;
  /** Starts a stream; `onMessage` gets every piece; the returned function cancels it. */
  stream(verb: string, params: Record<string, unknown>, onMessage: (res: ApiResponse) => void, onEnd?: (err?: Error) => void): () => void;
  /** Called with false when the connection drops and true when it is back (mqtt.js reconnects). */
  onConnection(fn: (up: boolean) => void): void;
  close(): void;
}

const requestTimeoutMs = 15_000;

function randomId(): string {
  const a = new Uint32Array(2);
  crypto.getRandomValues(a);
  return a[0].toString(36) + a[1].toString(36);
}

/** Connects to the master this page came from; rejects with ConnectError (refused: bad token). */
export function connect(user: string, token: string): Promise<Session> {
  const clientId = `dash-${randomId()}`;
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  const client = mqtt.connect(`${scheme}://${location.host}/mqtt`, { clientId, username: user, password: token, protocolVersion: 4, timerVariant: 'native', reconnectPeriod: 2000, connectTimeout: 10_000, clean: true });
  return new Promise((resolve, reject) => {
    let settled = false;
    client.once('connect', () => {
      settled = true;
      client.subscribe(`skiff/v1/api/${clientId}/res`, { qos: 1 }, (err) => (err ? reject(new ConnectError(err.message, false)) : resolve(session(client, clientId, user))));
    });
    client.on('error', (err: Error & { code?: number }) => {
      if (settled) return;
      settled = true;
      client.end(true);
      // CONNACK 4 (bad user name or password) and 5 (not authorized): the token is wrong.
      reject(new ConnectError(err.code === 4 || err.code === 5 ? 'the master refused this token' : err.message, err.code === 4 || err.code === 5));
    });
    setTimeout(() => {
      if (settled) return;
      settled = true;
      client.end(true);
      reject(new ConnectError('the master did not answer (is it running? is this its HTTP port?)', false));
    }, 12_000);
  });
}

function session(client: MqttClient, clientId: string, user: string): Session {
  const waiting = new Map<string, (res: ApiResponse) => void>();
  const reqTopic = `skiff/v1/api/${clientId}/req`;
  client.on('message', (_topic, payload) => {
    let res: ApiResponse;
    try {
      res = JSON.parse(new TextDecoder().decode(payload));
    } catch {
      return;
    }
    waiting.get(res.id)?.(res);
  });
  const send = (id: string, verb: string, params: Record<string, unknown>) => client.publish(reqTopic, JSON.stringify({ id, verb, ...params }), { qos: 1 });
  return {
    user,
    request<T>(verb: string, params: Record<string, unknown> = {}): Promise<T> {
      const id = randomId();
      return new Promise<T>((resolve, reject) => {
        const timer = setTimeout(() => {
          waiting.delete(id);
          reject(new Error(`${verb}: no answer within ${requestTimeoutMs / 1000} s`));
        }, requestTimeoutMs);
        waiting.set(id, (res) => {
          clearTimeout(timer);
          waiting.delete(id);
          if (res.ok) resolve(res.result as T);
          else reject(new Error(res.error?.message ?? 'request failed'));
        });
        send(id, verb, params);
      });
    },
    stream(verb, params, onMessage, onEnd) {
      const id = randomId();
      let open = true;
      waiting.set(id, (res) => {
        if (!res.ok) {
          waiting.delete(id);
          open = false;
          onEnd?.(new Error(res.error?.message ?? 'stream failed'));
          return;
        }
        onMessage(res);
        if (res.done) {
          waiting.delete(id);
          open = false;
          onEnd?.();
        }
      });
      send(id, verb, params);
      return () => {
        waiting.delete(id);
        if (open && client.connected) send(randomId(), 'cancel', { ref: id });
        open = false;
      };
    },
    onConnection(fn) {
      client.on('offline', () => fn(false));
      client.on('close', () => fn(false));
      client.on('connect', () => {
        // A reconnect is a new session (clean): answers need the subscription again.
        client.subscribe(`skiff/v1/api/${clientId}/res`, { qos: 1 }, () => fn(true));
      });
    },
    close() {
      client.end(true);
    },
  };
}

/**
 * A fake master for CLI tests: a bare aedes broker with the admin token, and an MQTT client that
 * answers `skiff/v1/api/+/req` with what the test's handler returns (one response, or several for a
 * stream). Every request is recorded so tests can assert what the CLI sent.
 */
import net from 'node:net';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Aedes } from 'aedes';
import mqtt from 'mqtt';
import { decode, encode, parseTopic, topics, type ApiRequest, type ApiResponse, type Pod } from '../../protocol/index.js';
import { main } from '../../cli/main.js';
import type { CliIO } from '../../cli/types.js';

/** What a handler returns: one response (`ok: true` assumed), several (a stream), or nothing (no answer). */
export type Reply = Partial<ApiResponse> | Partial<ApiResponse>[] | undefined;

export interface FakeMaster {
  url: string;
  token: string;
  requests: ApiRequest[];
  /** Sets the handler for the next requests. */
  handle(fn: (req: ApiRequest) => Reply): void;
  close(): Promise<void>;
}

export async function startFakeMaster(token = 'admin-secret'): Promise<FakeMaster> {
  const broker = await Aedes.createBroker({
    authenticate: (_client, username, password, cb) => {
      if (username === 'admin' && password?.toString() === token) return cb(null, true);
      const err = Object.assign(new Error('bad credentials'), { returnCode: 4 });
      cb(err as any, false);
    },
  });
  const server = net.createServer(broker.handle);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `mqtt://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  const client = await mqtt.connectAsync(url, { protocolVersion: 4, username: 'admin', password: token, clientId: 'fake-master' });
  await client.subscribeAsync('skiff/v1/api/+/req', { qos: 1 });
  const requests: ApiRequest[] = [];
  let handler: (req: ApiRequest) => Reply = () => ({ ok: false, error: { code: 'SKIFF_ERR_INTERNAL', message: 'no handler' } });
  client.on('message', (topic, payload) => {
    const req = decode<ApiRequest>(payload).value;
    requests.push(req);
    const t = parseTopic(topic);
    if (t?.type !== 'apiReq') return;
    const out = handler(req);
    for (const r of out === undefined ? [] : Array.isArray(out) ? out : [out]) client.publish(topics.apiRes(t.clientId), encode({ id: req.id, ok: true, ...r }), { qos: 1 });
  });
  return {
    url,
    token,
    requests,
    handle: (fn) => (handler = fn),
    close: async () => {
      await client.endAsync();
      await new Promise<void>((r) => broker.close(() => r()));
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  env?: Record<string, string | undefined>;
  stdin?: string;
  now?: number;
  signal?: AbortSignal;
  /** Called with the output so far after every stdout write (to abort a stream at the right moment). */
  onStdout?(all: string): void;
}

/** Runs the CLI in-process with captured output; HOME is an empty temp dir so no real config leaks in. */
export async function runCli(argv: string[], opts: RunOptions = {}): Promise<RunResult> {
  let stdout = '';
  let stderr = '';
  const io: CliIO = {
    stdout: (s) => {
      stdout += s;
      opts.onStdout?.(stdout);
    },
    stderr: (s) => void (stderr += s),
    readStdin: async () => opts.stdin ?? '',
    env: { HOME: mkdtempSync(join(tmpdir(), 'skiff-cli-home-')), ...opts.env },
    signal: opts.signal,
    now: () => opts.now ?? NOW,
  };
  const code = await main(argv, io);
  return { code, stdout, stderr };
}

/** The pinned clock of the tests: 2026-01-10T12:00:00Z. */
export const NOW = Date.parse('2026-01-10T12:00:00Z');

/** An RFC 3339 time `seconds` before NOW. */
export function ago(seconds: number): string {
  return new Date(NOW - seconds * 1000).toISOString();
}

/** Builders of realistic objects. */
export function podWith(name: string, o: { phase?: NonNullable<Pod['status']>['phase']; ready?: boolean; restarts?: number; waiting?: string; terminated?: { exitCode: number; reason?: string }; age?: number; node?: string; ip?: string; namespace?: string; lastRestartAgo?: number } = {}): Pod {
  const state = o.waiting ? { waiting: { reason: o.waiting } } : o.terminated ? { terminated: o.terminated } : { running: { startedAt: ago(o.age ?? 60) } };
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: o.namespace ?? 'default', uid: `uid-${name}`, resourceVersion: '10', creationTimestamp: ago(o.age ?? 60), labels: { app: 'web' } },
    spec: { nodeName: o.node, containers: [{ name: 'web', command: ['node', 'server.js'], ports: [{ containerPort: 0 }] }] },
    status: {
      phase: o.phase ?? 'Running',
      podIP: o.ip,
      hostIP: o.ip,
      conditions: [{ type: 'Ready', status: o.ready === false ? 'False' : 'True' }],
      containerStatuses: [
        {
          name: 'web',
          ready: o.ready ?? true,
          restartCount: o.restarts ?? 0,
          state,
          ...(o.lastRestartAgo !== undefined ? { lastState: { terminated: { exitCode: 1, reason: 'Error', finishedAt: ago(o.lastRestartAgo) } } } : {}),
        },
      ],
    },
  };
}

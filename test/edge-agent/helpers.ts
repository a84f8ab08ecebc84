/**
 * Test helpers for the edge agent: a bare aedes broker on an ephemeral port, a fake master (answers joins,
 * publishes desired sets, collects pod reports), pod builders, and waits on conditions with a deadline.
 */
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Aedes } from 'aedes';
import { connectAsync, type MqttClient } from 'mqtt';
import { decode, encode } from '../../protocol/codec.js';
import { agentProof, connectKey, masterProof, newNonce, proofMatches, sealGrant, transcriptOf } from '../../protocol/join.js';
import type { DesiredMessage, JoinHello, PodsMessage, RpcResponse } from '../../protocol/messages.js';
import { parseTopic, topics } from '../../protocol/topics.js';
import type { Container, Pod, PodStatus } from '../../protocol/types.js';
import type { Logger } from '../../edge-agent/index.js';

export const JOIN_TOKEN = 'join-token-1234567890';
const ADMIN_PASSWORD = 'admin-secret';

/** Waits until `fn` returns (or resolves to) a truthy value, checking every 10 ms; fails after the deadline. */
export async function until<T>(fn: () => T | undefined | false | null | Promise<T | undefined | false | null>, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A logger that keeps lines (printed by `dump` when a test wants to see them). */
export function memoryLogger(echo = !!process.env.SKIFF_TEST_LOG): Logger & { lines: string[] } {
  const lines: string[] = [];
  const add = (l: string) => (m: string) => {
    lines.push(`${l} ${m}`);
    if (echo) process.stderr.write(`[agent] ${l} ${m}\n`);
  };
  return { lines, debug: add('debug'), info: add('info'), warn: add('warn'), error: add('error') };
}

/** A fresh temp dir. */
export function tempDir(prefix = 'skiff-agent-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** One CONNECT the broker saw. */
export interface AuthAttempt {
  clientId: string;
  username?: string;
  password?: string;
  ok: boolean;
}

/** A broker plus the master's side of the wire, played by the test. */
export class FakeMaster extends EventEmitter {
  readonly credentials = new Map<string, string>();
  readonly auths: AuthAttempt[] = [];
  /** Latest status per pod uid. */
  readonly pods = new Map<string, PodStatus>();
  readonly podsMessages: PodsMessage[] = [];
  readonly gone = new Set<string>();
  readonly statuses: Record<string, unknown>[] = [];
  readonly leases: Record<string, unknown>[] = [];
  /** The QoS of every lease and of every metrics message, in order, and the PINGREQs the agents sent. */
  readonly leaseQos: number[] = [];
  readonly metricsQos: number[] = [];
  pings = 0;
  readonly metrics: Record<string, unknown>[] = [];
  readonly rpc = new Map<string, RpcResponse[]>();
  /** Join exchanges by session: the hello and the transcript. */
  readonly joins = new Map<string, { hello: JoinHello; transcript: Buffer }>();
  joinAnswer: (node: string) => Record<string, unknown> | undefined = (node) => {
    const credential = `cred-${node}-${Math.random().toString(36).slice(2)}`;
    this.credentials.set(node, credential);
    return { ok: true, node, credential };
  };
  url = '';
  private broker!: Aedes;
  private server!: net.Server;
  private client!: MqttClient;

  /** Starts the broker (on `port`, 0 = ephemeral) and the master's client. */
  async start(port = 0): Promise<this> {
    this.broker = await Aedes.createBroker({
      authenticate: (client, username, password, done) => {
        const pw = password?.toString();
        const ok = (username === 'admin' && pw === ADMIN_PASSWORD) || (pw === connectKey(JOIN_TOKEN) && client.id.startsWith('skiff-join-')) || (username !== undefined && this.credentials.get(username) === pw);
        this.auths.push({ clientId: client.id, username, password: pw, ok });
        if (ok) return done(null, true);
        const err = Object.assign(new Error('bad username or password'), { returnCode: 4 });
        done(err as never, false);
      },
    });
    this.broker.on('ping', () => void this.pings++);
    this.broker.on('publish', (packet, client) => {
      if (!client) return;
      const type = parseTopic(packet.topic)?.type;
      if (type === 'nodeLease') this.leaseQos.push(packet.qos);
      else if (type === 'nodeMetrics') this.metricsQos.push(packet.qos);
      this.observe(packet.topic, packet.payload as Buffer);
    });
    this.server = net.createServer(this.broker.handle);
    await new Promise<void>((r) => this.server.listen(port, '127.0.0.1', () => r()));
    this.url = `mqtt://127.0.0.1:${(this.server.address() as net.AddressInfo).port}`;
    this.client = await connectAsync(this.url, { username: 'admin', password: ADMIN_PASSWORD, protocolVersion: 4, clientId: 'test-master', reconnectPeriod: 0 });
    await this.client.subscribeAsync(topics.joinReq('+'), { qos: 1 });
    this.client.on('message', (topic, payload) => {
      const t = parseTopic(topic);
      if (t?.type !== 'joinReq') return;
      const answer = this.onJoin(t.session, payload);
      if (answer) void this.client.publishAsync(topics.joinRes(t.session), encode(answer), { qos: 1 });
    });
    return this;
  }

  /** The master's side of the join exchange (protocol/join.ts), answering with `joinAnswer` once the proof checks. */
  private onJoin(session: string, payload: Buffer): Record<string, unknown> | undefined {
    const m = decode<{ step: string; proof?: string } & JoinHello>(payload).value;
    if (m.step === 'hello') {
      const nonce = newNonce();
      const transcript = transcriptOf(payload, nonce);
      this.joins.set(session, { hello: m, transcript });
      return { step: 'challenge', nonce, proof: masterProof(JOIN_TOKEN, transcript) };
    }
    const j = this.joins.get(session);
    if (!j || !proofMatches(agentProof(JOIN_TOKEN, j.transcript), m.proof)) return { step: 'result', ok: false, error: { code: 'SKIFF_ERR_UNAUTHORIZED', message: 'bad proof' } };
    const answer = this.joinAnswer(j.hello.node);
    if (!answer) return undefined;
    if (answer.ok !== true) return { step: 'result', ...answer };
    return { step: 'result', ok: true, node: j.hello.node, ...sealGrant({ credential: answer.credential as string }, j.hello.key, j.transcript) };
  }

  get port(): number {
    return Number(new URL(this.url).port);
  }

  private observe(topic: string, payload: Buffer): void {
    const t = parseTopic(topic);
    if (!t || !('node' in t) || payload.length === 0) return;
    let v: any;
    try {
      v = decode(payload).value;
    } catch {
      return;
    }
    if (t.type === 'nodePods') {
      const m = v as PodsMessage;
      this.podsMessages.push(m);
      for (const p of m.pods) this.pods.set(p.uid, p.status);
      for (const u of m.gone ?? []) {
        this.gone.add(u);
        this.pods.delete(u);
      }
    } else if (t.type === 'nodeStatus') this.statuses.push(v);
    else if (t.type === 'nodeLease') this.leases.push(v);
    else if (t.type === 'nodeMetrics') this.metrics.push(v);
    else if (t.type === 'nodeRpcRes') this.rpc.set(t.id, [...(this.rpc.get(t.id) ?? []), v]);
    this.emit(t.type, v);
  }

  /** Publishes a node's desired set, retained, QoS 1. */
  async desire(node: string, d: DesiredMessage): Promise<void> {
    await this.client.publishAsync(topics.nodeDesired(node), encode(d), { qos: 1, retain: true });
  }

  /** Publishes raw bytes on a topic (garbage tests). */
  async raw(topic: string, payload: Buffer | string, retain = false): Promise<void> {
    await this.client.publishAsync(topic, payload as Buffer, { qos: 1, retain });
  }

  /** Sends an RPC request and returns its id. */
  async call(node: string, method: string, params: Record<string, unknown>, id = `r${Math.random().toString(36).slice(2, 9)}`): Promise<string> {
    await this.client.publishAsync(topics.nodeRpcReq(node, id), encode({ id, method, params }), { qos: 1 });
    return id;
  }

  /** Drops one client's connection from the broker side. */
  kick(clientId: string): void {
    (this.broker as unknown as { clients: Record<string, { close(): void }> }).clients[clientId]?.close();
  }

  /** Closes the broker (agents see the master go away). */
  async close(): Promise<void> {
    await this.client?.endAsync(true).catch(() => undefined);
    await new Promise<void>((r) => this.broker.close(() => r()));
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

let uidSeq = 0;
/** A pod with one process container; `c` overrides the container, `spec` the pod spec. */
export function podWith(name: string, c: Partial<Container>, spec: Partial<Pod['spec']> = {}, namespace = 'default'): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, uid: `uid-${name}-${++uidSeq}-${process.pid}`, labels: { app: name } },
    spec: { restartPolicy: 'Always', terminationGracePeriodSeconds: 2, containers: [{ name: 'main', ...c }], ...spec },
  };
}

/** `sh -c SCRIPT` as a container command; `$$` is doubled because Kubernetes expansion turns `$$` into `$`. */
export const sh = (script: string): Partial<Container> => ({ command: ['/bin/sh', '-c', script.replace(/\$\$/g, '$$$$$$$$')] });

/** True when `pid` is a live (not zombie) process. */
export function alive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** Reads a file's trimmed text, or undefined when it does not exist yet or is empty. */
export function readText(file: string): string | undefined {
  try {
    const s = fs.readFileSync(file, 'utf8').trim();
    return s || undefined;
  } catch {
    return undefined;
  }
}

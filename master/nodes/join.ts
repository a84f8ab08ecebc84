/**
 * Joining, the master's side of the exchange in protocol/join.ts (docs/protocol.md "Joining"): hello →
 * challenge (the master proves it knows the join token) → proof (the joiner proves it) → the node credential
 * and the node certificate signed for the hello's CSR, sealed to the joiner's ephemeral key so only the
 * connection that asked can read them. A session belongs to the connection that opened it, and to the join
 * token that connection logged in with; an expired, used-up or revoked token is refused with a sentence
 * saying which (docs/security.md "Join tokens"), and each join takes one of its uses. Joins are rate-limited per source address and in all; a node that joins gets its
 * Node object at once (Ready=Unknown until its first status), so every credential is visible and revocable.
 */
import { networkInterfaces } from 'node:os';
import { Checker, SkiffError, decodeObject, encode, isObject, toWireError, topics, type JoinHello, type JoinResult, type Node } from '../../protocol/index.js';
import { B64_256, agentProof, masterProof, newNonce, proofMatches, sealGrant, transcriptOf } from '../../protocol/join.js';
import type { Identity } from '../broker/acl.js';
import type { ControllerContext } from '../controllers/types.js';
import type { Credentials } from '../credentials.js';
import { KeyedBuckets, TokenBucket, type Rate } from '../ratelimit.js';
import { MAX_CSR_BYTES } from '../tls/certs.js';
import type { MasterTls } from '../tls/server.js';
import { RecentJoins } from './join-retry.js';
import { checkNodeLabels } from './restriction.js';
import { NEVER_UPDATED } from './status.js';

/** How long a joiner has between the challenge and its proof. */
const SESSION_TTL_MS = 30_000;
/** Exchanges in progress at most (each holds a hello of ≤ 64 KiB). */
const MAX_SESSIONS = 1024;

/** What the join service needs besides the cluster. */
export interface JoinOptions {
  /** Joins from one source address. */
  perSource: Rate;
  /** Joins in all. */
  overall: Rate;
  /** True when `host:port` is an address this master's broker listens on (a discovered master must be dialled directly). */
  isOwnAddress: (dialled: string) => boolean;
  /** Signs the CSR a hello carries. */
  tls: Pick<MasterTls, 'signNode'>;
}

/** One message on `join/{session}/req`. */
export interface JoinMessage {
  session: string;
  clientId: string;
  identity: Identity;
  address: string;
  payload: Buffer;
}

/** What a session keeps of its hello: only what the result needs (a hello may carry more, up to 64 KiB). */
type Kept = Pick<JoinHello, 'node' | 'key' | 'labels' | 'csr'> & { facts: Pick<JoinHello['facts'], 'arch' | 'hostname'> };

interface Session {
  clientId: string;
  /** A retry of a join admitted lately (join-retry.ts). */
  retry: boolean;
  /** The join token the connection logged in with. */
  token: string;
  hello: Kept;
  transcript: Buffer;
  expiresAt: number;
}

/** Runs join exchanges. */
export class JoinService {
  private readonly sessions = new Map<string, Session>();
  /** Admissions in progress, by node: a retry of the same node waits for the one before it. */
  private readonly inFlight = new Map<string, Promise<unknown>>();
  private readonly recent = new RecentJoins();
  private readonly perSource: KeyedBuckets;
  private readonly overall: TokenBucket;

  constructor(
    private readonly ctx: ControllerContext,
    private readonly credentials: Credentials,
    private readonly publish: (topic: string, payload: Buffer) => Promise<void>,
    private readonly opts: JoinOptions,
  ) {
    this.perSource = new KeyedBuckets(opts.perSource);
    this.overall = new TokenBucket(opts.overall);
  }

  /** Handles one message of an exchange. */
  async onMessage(m: JoinMessage): Promise<void> {
    if (m.identity.role !== 'joiner') return; // the ACL lets only joiners publish here
    let value: unknown;
    try {
      value = decodeObject(m.payload).value;
    } catch (err) {
      return this.ctx.log.warn('join: dropped an undecodable message', { from: m.address, err });
    }
    const step = isObject(value) ? value.step : undefined;
    if (step === 'hello') return this.hello(m, value as unknown as JoinHello);
    if (step === 'proof') return this.proof(m, (value as { proof?: unknown }).proof);
    await this.fail(m.session, new SkiffError('SKIFF_ERR_BAD_REQUEST', `join: step: must be hello or proof, got ${JSON.stringify(step)?.slice(0, 40)}`));
  }

  /** A client went away: its unfinished exchanges go too. */
  clientGone(clientId: string): void {
    for (const [k, s] of this.sessions) if (s.clientId === clientId) this.sessions.delete(k);
  }

  private async hello(m: JoinMessage, hello: JoinHello): Promise<void> {
    if (this.sessions.has(m.session)) return this.ctx.log.warn('join: ignored a second hello on a session', { from: m.address, client: m.clientId });
    const token = m.identity.role === 'joiner' ? m.identity.token : '';
    const secret = this.credentials.joinTokens.secretOf(token);
    // A retry is admitted even if the first join used the token's last use (or it expired since); not if it was revoked.
    const retry = this.recent.isRetry(hello?.node, token, hello?.key);
    try {
      const stale = retry ? undefined : this.credentials.joinTokens.refusal(token);
      if (stale || secret === undefined) throw new SkiffError('SKIFF_ERR_JOIN_REJECTED', `${stale ?? 'the join token was revoked'}; ask the cluster's administrator for a new one (skiff token create --join)`);
      this.checkHello(m, hello);
      this.limit(m.address);
      if (hello.discovered && !this.opts.isOwnAddress(hello.dialled))
        throw new SkiffError('SKIFF_ERR_JOIN_REJECTED', `the agent found a master by mDNS at ${hello.dialled}, which is not an address of this master: something between them relays the join, refused`);
      if (!retry) this.checkName(hello.node);
      this.sweep();
      if (this.sessions.size >= MAX_SESSIONS) throw new SkiffError('SKIFF_ERR_UNAVAILABLE', 'too many joins in progress; retry shortly');
    } catch (err) {
      return this.fail(m.session, err, typeof hello.node === 'string' ? hello.node.slice(0, 253) : undefined);
    }
    const nonce = newNonce();
    const transcript = transcriptOf(m.payload, nonce);
    const kept: Kept = { node: hello.node, key: hello.key, facts: { arch: hello.facts.arch, hostname: hello.facts.hostname }, ...(hello.labels ? { labels: hello.labels } : {}), ...(hello.csr ? { csr: hello.csr } : {}) };
    this.sessions.set(m.session, { clientId: m.clientId, retry, token, hello: kept, transcript, expiresAt: Date.now() + SESSION_TTL_MS });
    await this.publish(topics.joinRes(m.session), encode({ step: 'challenge', nonce, proof: masterProof(secret!, transcript) }));
  }

  private async proof(m: JoinMessage, proof: unknown): Promise<void> {
    const s = this.sessions.get(m.session);
    // A session answers only the connection that opened it: anyone else who learnt its id gets nothing.
    if (!s || s.clientId !== m.clientId) return this.ctx.log.warn(`join: ignored a proof on ${s ? "another connection's" : 'an unknown'} session`, { from: m.address, client: m.clientId });
    this.sessions.delete(m.session);
    const node = s.hello.node;
    let res: JoinResult;
    try {
      if (Date.now() > s.expiresAt) throw new SkiffError('SKIFF_ERR_TIMEOUT', 'join: the proof came after the session expired; join again');
      const secret = this.credentials.joinTokens.secretOf(s.token);
      if (secret === undefined) throw new SkiffError('SKIFF_ERR_JOIN_REJECTED', `the join token "${s.token}" was revoked or rotated during the join`);
      if (!proofMatches(agentProof(secret, s.transcript), proof)) throw new SkiffError('SKIFF_ERR_UNAUTHORIZED', 'join: the proof does not match the join token');
      const grant = await this.admit(s.hello, s.token, s.retry);
      res = { step: 'result', ok: true, node, ...sealGrant(grant, s.hello.key, s.transcript) };
      this.ctx.events.object('Node', undefined, node, 'Normal', 'Joined', `Node ${node} joined (${s.hello.facts.arch}, ${s.hello.facts.hostname}) from ${m.address}`);
    } catch (err) {
      return this.fail(m.session, err, node);
    }
    await this.publish(topics.joinRes(m.session), encode(res));
  }

  /**
   * Signs the node certificate (a bad CSR refuses the join before anything is written), takes one use of the join
   * token, creates the Node (unless an administrator created it first), then issues the credential. Admissions of
   * one node run one at a time: a retry that comes while the first is still being admitted waits for it.
   */
  private async admit(hello: Kept, token: string, retry: boolean): Promise<{ credential: string; cert?: string }> {
    const node = hello.node;
    for (let p = this.inFlight.get(node); p; p = this.inFlight.get(node)) await p.catch(() => undefined);
    const admitting = this.admitOne(hello, token, retry || this.recent.isRetry(node, token, hello.key));
    this.inFlight.set(node, admitting);
    try {
      return await admitting;
    } finally {
      if (this.inFlight.get(node) === admitting) this.inFlight.delete(node);
    }
  }

  /** One admission; a retry (join-retry.ts) takes no use of the token and gets a fresh credential for the node it joined. */
  private async admitOne(hello: Kept, token: string, retry: boolean): Promise<{ credential: string; cert?: string }> {
    const node = hello.node;
    if (!retry) this.checkName(node);
    const signed = hello.csr !== undefined ? await this.opts.tls.signNode(node, hello.csr) : undefined;
    if (!retry) await this.credentials.joinTokens.use(token);
    let created = false;
    if (!this.ctx.informers.get('Node', undefined, node))
      created = await this.ctx.objects.create<Node>(joinedNode(hello)).then(
        () => true,
        (err) => {
          // The informer had not seen a Node created a moment ago: for a retry it is the one it made; for anyone else the name is taken.
          if (!(err instanceof SkiffError && err.code === 'SKIFF_ERR_ALREADY_EXISTS')) throw err;
          if (!retry) throw new SkiffError('SKIFF_ERR_JOIN_REJECTED', `node "${node}" has already joined; delete it first (skiff delete node ${node}) or join under another --name`);
          return false;
        },
      );
    try {
      const credential = await this.credentials.issueNode(node, true, signed?.serial);
      this.recent.admitted(node, token, hello.key);
      return { credential, ...(signed ? { cert: signed.certPem } : {}) };
    } catch (err) {
      if (created) await this.ctx.objects.delete('Node', undefined, node, { force: true }).catch(() => undefined);
      throw err;
    }
  }

  /** A name that has a credential and a Node is taken; a Node an administrator made without a credential may be joined. */
  private checkName(node: string): void {
    if (node === 'admin') throw new SkiffError('SKIFF_ERR_JOIN_REJECTED', 'the node name "admin" is reserved');
    if (this.credentials.hasNode(node) && this.ctx.informers.get('Node', undefined, node))
      throw new SkiffError('SKIFF_ERR_JOIN_REJECTED', `node "${node}" has already joined; delete it first (skiff delete node ${node}) or join under another --name`);
  }

  private checkHello(m: JoinMessage, h: JoinHello): void {
    const c = new Checker(`join ${m.identity.name}`);
    if (c.dnsSubdomain(h.node, 'node', true) && h.node !== m.identity.name) c.fail('node', `must be the MQTT user name "${m.identity.name}"`, h.node);
    for (const f of ['nonce', 'key'] as const) if (c.string(h[f], f, true) && !B64_256.test(h[f])) c.fail(f, 'must be 32 bytes in base64url', h[f]);
    if (c.string(h.dialled, 'dialled', true) && h.dialled.length > 300) c.fail('dialled', 'must be at most 300 characters');
    if (typeof h.discovered !== 'boolean') c.fail('discovered', 'must be true or false', h.discovered);
    if (c.object(h.facts, 'facts', true)) {
      for (const f of ['arch', 'hostname'] as const) if (c.string(h.facts[f], `facts.${f}`, true) && h.facts[f].length > 253) c.fail(`facts.${f}`, 'must be at most 253 characters');
    }
    if (h.csr !== undefined && (typeof h.csr !== 'string' || h.csr.length > MAX_CSR_BYTES)) c.fail('csr', `must be a PEM certificate signing request of at most ${MAX_CSR_BYTES} bytes`);
    checkNodeLabels(c, typeof h.node === 'string' ? h.node : '', h.labels, 'labels');
    c.throwIfAny();
  }

  /** Takes a join from the source's bucket and the overall one; throws with the wait when either is empty. */
  private limit(address: string): void {
    const wait = this.perSource.take(address) || this.overall.take();
    if (wait > 0) throw Object.assign(new SkiffError('SKIFF_ERR_UNAVAILABLE', `too many joins${address ? ` (from ${address})` : ''}; retry in ${Math.ceil(wait / 1000)} s`), { retryAfterMs: wait });
  }

  private sweep(now = Date.now()): void {
    for (const [k, s] of this.sessions) if (s.expiresAt < now) this.sessions.delete(k);
  }

  private async fail(session: string, err: unknown, node?: string): Promise<void> {
    this.ctx.log.warn('join refused', { node, err });
    const retryAfterMs = (err as { retryAfterMs?: number }).retryAfterMs;
    const res: JoinResult = { step: 'result', ok: false, error: toWireError(err), ...(retryAfterMs ? { retryAfterMs } : {}) };
    await this.publish(topics.joinRes(session), encode(res));
  }
}

/** The Node of a node that joined and has not reported yet (Kubernetes' NodeStatusNeverUpdated). */
function joinedNode(h: Kept): Node {
  const now = new Date().toISOString();
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: h.node, labels: { ...(h.labels ?? {}), 'kubernetes.io/hostname': h.node } },
    spec: {},
    status: {
      conditions: [{ type: 'Ready', status: 'Unknown', reason: NEVER_UPDATED, message: 'Joined; the agent has not posted its status yet.', lastHeartbeatTime: now, lastTransitionTime: now }],
    },
  } as Node;
}

/**
 * `isOwnAddress` for a broker bound to `bind` and listening on the ports `ports()` return (TLS, and plain when it
 * is on the LAN; -1 = none): the dialled host must be the bound address, or, when bound to all addresses, one of
 * this host's interface addresses (read at each join: DHCP).
 */
export function ownAddress(bind: string, ...ports: (() => number)[]): (dialled: string) => boolean {
  return (dialled) => {
    const i = dialled.lastIndexOf(':');
    const port = Number(dialled.slice(i + 1));
    if (i <= 0 || !ports.some((p) => p() === port && port >= 0)) return false;
    const host = dialled.slice(0, i).replace(/^\[|\]$/g, '');
    if (bind !== '0.0.0.0' && bind !== '::') return host === bind;
    return Object.values(networkInterfaces()).some((list) => list?.some((a) => a.address === host));
  };
}

/**
 * Revokes node credentials that have no Node object (a node deleted while its revocation failed, or joined
 * before joins created Nodes): every credential must be visible in `skiff get nodes`. Run at start-up.
 */
export async function revokeOrphanCredentials(credentials: Credentials, informers: ControllerContext['informers'], log: ControllerContext['log']): Promise<string[]> {
  const orphans = credentials.listNodes().filter((c) => !informers.get('Node', undefined, c.node));
  for (const { node } of orphans) {
    await credentials.revokeNode(node);
    log.warn('revoked a node credential without a Node object (the node must join again)', { node });
  }
  return orphans.map((o) => o.node);
}

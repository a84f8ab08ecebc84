/**
 * Joining (docs/protocol.md "Joining"): the first time, the agent runs the exchange of protocol/join.ts with the
 * master — it connects with the join token's connect key (never the token), the master proves it knows the
 * token, then the agent proves it too and gets its node credential — and the node certificate signed for the
 * CSR in its hello — sealed to a key only it holds. The credential is kept in DATA/credential (mode 0600); later
 * runs connect with it. Over mqtts:// the agent first pins the cluster CA from the join token (tls.ts) and
 * refuses a master whose certificate does not chain to it, having sent nothing but the TLS handshake.
 */
import { randomBytes } from 'node:crypto';
import { connect, type MqttClient } from 'mqtt';
import { decodeObject, encode } from '../protocol/codec.js';
import { SkiffError } from '../protocol/errors.js';
import { agentProof, connectKey, ephemeralKey, masterProof, newJoinSession, newNonce, openGrant, proofMatches, transcriptOf, type EphemeralKey } from '../protocol/join.js';
import { parseJoinToken } from '../protocol/join-token.js';
import { externalTopics, joinTag, joinUser } from '../protocol/external-topics.js';
import { tlsFailure } from '../protocol/tls.js';
import { nodeKeyAndCsr } from '../protocol/csr.js';
import type { JoinChallenge, JoinGrant, JoinHello, JoinResult } from '../protocol/messages.js';
import { topics } from '../protocol/topics.js';
import type { AgentConfig } from './config.js';
import { readFacts } from './facts.js';
import { readIfExists, remove, writeFileAtomic } from './fsutil.js';
import { checkNodeCert, mqttTlsOptions, pinnedCa, type NodeTls } from './tls.js';

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

/** `host:port` of an MQTT URL, the port defaulted by scheme (what the master checks for a discovered master). */
export function dialledOf(url: string): string {
  const u = new URL(url);
  const port = u.port || (u.protocol === 'mqtts:' ? '8883' : '1883');
  return `${u.hostname}:${port}`;
}

/**
 * One exchange on one session: hello → challenge → proof → result. The exchanges of one join (a retry after a
 * reconnect or a rate limit) share the ephemeral key: a master that admitted an earlier exchange whose result was
 * lost recognises the same joiner by it and admits it again (master/nodes/join.ts), sealed to the same key.
 */
class Exchange {
  readonly session = newJoinSession();
  private readonly hello: Buffer;
  private transcript?: Buffer;

  constructor(
    private readonly token: string,
    h: Omit<JoinHello, 'step' | 'nonce' | 'key'>,
    private readonly key: EphemeralKey,
  ) {
    this.hello = encode({ step: 'hello', ...h, nonce: newNonce(), key: this.key.publicKey } satisfies JoinHello);
  }

  /** The first message. */
  helloBytes(): Buffer {
    return this.hello;
  }

  /** Checks the master's proof; returns our proof, or throws when the master does not know the token. */
  answer(c: JoinChallenge, master: string): Buffer {
    if (this.transcript) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `join: the master at ${master} sent a second challenge`);
    const transcript = transcriptOf(this.hello, String(c.nonce));
    if (!proofMatches(masterProof(this.token, transcript), c.proof))
      throw new SkiffError('SKIFF_ERR_UNAUTHORIZED', `join: the master at ${master} could not prove it knows the join token; nothing more was sent to it (a rogue master on the LAN, or another cluster's master)`);
    this.transcript = transcript;
    return encode({ step: 'proof', proof: agentProof(this.token, transcript) });
  }

  /** Opens the sealed credential (and node certificate) of a successful result. */
  grant(r: Extract<JoinResult, { ok: true }>): JoinGrant {
    if (!this.transcript) throw new SkiffError('SKIFF_ERR_UNAUTHORIZED', 'join: a credential came before the master proved it knows the join token; refused');
    try {
      return openGrant(r, this.key, this.transcript);
    } catch (err) {
      throw new SkiffError('SKIFF_ERR_UNAUTHORIZED', `join: the credential was not sealed to this agent's key (${(err as Error).message})`);
    }
  }
}

/** What a join gives: the node credential, and over TLS the CA pinned and the node's key and certificate. */
export interface Joined {
  credential: string;
  tls?: Partial<NodeTls>;
}

/**
 * The CA to trust for a join: pinned from the token over mqtts:// (refusing a token without a CA hash there);
 * none over plain mqtt:// (loopback or --insecure-listen: nothing to check, the sealed exchange still protects
 * the credential).
 */
async function trustFor(cfg: AgentConfig, caHash: string | undefined): Promise<string | undefined> {
  if (!cfg.master.startsWith('mqtts:')) {
    if (caHash) cfg.logger.warn(`join: ${cfg.master} is plain MQTT: the CA pinned in the join token cannot be checked there (use mqtts:// on a LAN)`);
    return undefined;
  }
  if (!caHash) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `join: the join token carries no CA hash, so the master at ${cfg.master} cannot be checked; use the whole token (skiff1:sha256:…::…) from the master's DATA/join.token or "skiff token create --join"`);
  return pinnedCa(cfg.master, caHash, Math.min(10_000, cfg.joinTimeoutMs));
}

/**
 * Joins the cluster with the join token and returns the credential (and the node's TLS files). `discovered` says
 * the master was found by mDNS (the master then checks that the agent dialled it directly). Throws
 * SKIFF_ERR_UNAUTHORIZED when the master's certificate does not chain to the pinned CA, the broker refuses the
 * token or the master cannot prove it knows it, SKIFF_ERR_JOIN_REJECTED (or the master's code) on a refusal —
 * an expired or used-up token among them —, and SKIFF_ERR_TIMEOUT when no answer arrives within joinTimeoutMs
 * (retrying meanwhile, and after a rate limit's retryAfterMs).
 */
export async function join(cfg: AgentConfig, token: string, discovered = false): Promise<Joined> {
  try {
    return await joinVia(cfg, token, discovered, false);
  } catch (err) {
    // An external broker (Mosquitto, docs/ha.md) has no account named after the node: the joiners of a token log
    // in with the token's own account and topics (protocol/external-topics.ts). Tried once the node name is refused.
    if (!(err instanceof SkiffError && err.code === 'SKIFF_ERR_UNAUTHORIZED' && (err as { refusedLogin?: boolean }).refusedLogin)) throw err;
    cfg.logger.info(`join: ${cfg.master} refused the login as "${cfg.name}"; trying the join token's own broker account (an external broker)`);
    return joinVia(cfg, token, discovered, true);
  }
}

async function joinVia(cfg: AgentConfig, token: string, discovered: boolean, external: boolean): Promise<Joined> {
  const node = cfg.name;
  const { secret, caHash } = parseJoinToken(token);
  const ca = await trustFor(cfg, caHash);
  const { keyPem, csrPem } = await nodeKeyAndCsr(node);
  const key = ephemeralKey();
  const deadline = Date.now() + cfg.joinTimeoutMs;
  const tag = joinTag(secret);
  const reqTopic = (session: string) => (external ? externalTopics.joinReq(tag, session) : topics.joinReq(session));
  const resTopic = (session: string) => (external ? externalTopics.joinRes(tag, session) : topics.joinRes(session));
  const client: MqttClient = connect(cfg.master, {
    ...(ca ? mqttTlsOptions({ ca }) : {}),
    clientId: `skiff-join-${randomBytes(8).toString('hex')}`,
    username: external ? joinUser(secret) : node,
    password: connectKey(secret),
    protocolVersion: 4,
    clean: true,
    keepalive: cfg.keepaliveSeconds,
    reconnectPeriod: 1000,
    // CONNACK 3 (the master is not taking more connections of this join token now: a fleet joining at once) is
    // tried again like a lost connection; a refused token (4, 5) ends the join below.
    reconnectOnConnackError: true,
    connectTimeout: Math.min(10_000, cfg.joinTimeoutMs),
    writeCache: false, // see session.ts: the number cache would stay in memory after the join
  });
  let ex: Exchange | undefined;
  let retry: NodeJS.Timeout | undefined;
  let busyLogged = false;
  try {
    const grant = await new Promise<JoinGrant>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new SkiffError('SKIFF_ERR_TIMEOUT', `join: no answer from the master at ${cfg.master} within ${cfg.joinTimeoutMs >= 1000 ? `${Math.round(cfg.joinTimeoutMs / 1000)} s` : `${cfg.joinTimeoutMs} ms`} (${client.connected ? 'connected, but nothing answered the join request' : 'could not connect'})`)),
        cfg.joinTimeoutMs,
      );
      const done = (err: Error | undefined, g?: JoinGrant) => {
        clearTimeout(timer);
        if (err) reject(err);
        else resolve(g!);
      };
      const begin = () => {
        ex = new Exchange(secret, { node, dialled: dialledOf(cfg.master), discovered, facts: readFacts(), csr: csrPem, ...(Object.keys(cfg.labels).length ? { labels: { ...cfg.labels } } : {}) }, key);
        const e = ex;
        client
          .subscribeAsync(resTopic(e.session), { qos: 1 })
          .then(() => client.publishAsync(reqTopic(e.session), e.helloBytes(), { qos: 1 }))
          .catch((err: Error) => cfg.logger.warn(`join: ${err.message}; retrying on reconnect`));
      };
      client.on('error', (err: Error & { code?: number | string }) => {
        if (err.code === 3 && !busyLogged) {
          busyLogged = true;
          cfg.logger.warn(`join: the master at ${cfg.master} is not taking more connections now (${err.message}); retrying`);
        }
        if (err.code === 4 || err.code === 5) return done(Object.assign(new SkiffError('SKIFF_ERR_UNAUTHORIZED', `join: the master at ${cfg.master} refused the join token for node "${node}" (${err.message})`), { refusedLogin: !external }));
        const tls = tlsFailure(err, dialledOf(cfg.master), 'the cluster CA pinned in the join token');
        if (tls) done(new SkiffError('SKIFF_ERR_UNAUTHORIZED', `join: ${tls}`));
      });
      // Every (re)connect starts a fresh exchange: a session does not outlive its connection.
      client.on('connect', begin);
      client.on('message', (topic, payload) => {
        if (!ex || topic !== resTopic(ex.session)) return;
        try {
          const step = onAnswer(ex, payload, cfg, (proof) => void client.publishAsync(reqTopic(ex!.session), proof, { qos: 1 }).catch(() => undefined));
          if (step.grant) done(undefined, step.grant);
          else if (step.retryAfterMs !== undefined) {
            if (Date.now() + step.retryAfterMs >= deadline) done(step.error);
            else retry = setTimeout(begin, step.retryAfterMs);
          }
        } catch (err) {
          done(err as Error);
        }
      });
    });
    if (!grant.cert) return { credential: grant.credential, ...(ca ? { tls: { ca } } : {}) };
    checkNodeCert(grant.cert, keyPem, node, ca);
    return { credential: grant.credential, tls: { ...(ca ? { ca } : {}), key: keyPem, cert: grant.cert } };
  } finally {
    clearTimeout(retry);
    await client.endAsync(true).catch(() => undefined);
  }
}

/** What one answer means: a credential, a wait before trying again, or nothing yet. Throws on a final refusal. */
function onAnswer(ex: Exchange, payload: Buffer, cfg: AgentConfig, sendProof: (p: Buffer) => void): { grant?: JoinGrant; retryAfterMs?: number; error?: SkiffError } {
  let res: JoinChallenge | JoinResult;
  try {
    res = decodeObject<JoinChallenge | JoinResult>(payload).value;
  } catch (err) {
    cfg.logger.warn(`join: dropped an undecodable answer: ${(err as Error).message}`);
    return {};
  }
  if (res.step === 'challenge') {
    sendProof(ex.answer(res, cfg.master));
    return {};
  }
  if (res.step !== 'result') {
    cfg.logger.warn('join: dropped an answer that is neither a challenge nor a result');
    return {};
  }
  if (res.ok === true) return { grant: ex.grant(res) };
  const e = SkiffError.fromWire(res.error);
  const error = new SkiffError(e.code === 'SKIFF_ERR_INTERNAL' && !res.error ? 'SKIFF_ERR_JOIN_REJECTED' : e.code, `join rejected: ${e.message}`, e.details);
  if (typeof res.retryAfterMs === 'number' && res.retryAfterMs >= 0) {
    cfg.logger.warn(`join: ${e.message}; retrying in ${Math.ceil(res.retryAfterMs / 1000)} s`);
    return { retryAfterMs: res.retryAfterMs, error };
  }
  throw error;
}

/** Reads the join token from a file (`--token-file`), each time it is needed; a clear error when it cannot. */
export async function readTokenFile(file: string): Promise<string> {
  let b: Buffer | undefined;
  try {
    b = await readIfExists(file);
  } catch (err) {
    throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `--token-file ${file}: ${(err as Error).message}`);
  }
  const token = b?.toString('utf8').trim();
  if (!token) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `--token-file ${file}: ${b ? 'is empty' : 'does not exist'}`);
  return token;
}

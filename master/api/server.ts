/**
 * The MQTT API: `api/{clientId}/req` → `api/{clientId}/res` with `{id, ok, result | error}` (in the
 * codec of the request, so plain JSON clients work), and manifests published on `skiff/v1/apply`
 * with the outcome on `skiff/v1/events`. Verbs are a registry map; one handler per verb.
 */
import { answerEncodings, Checker, SkiffError, decodeObject, maxRequestBytes, parseManifests, payloadTooLarge, toWireError, topics, type ApiRequest, type ApiResponse, type AnswerEncoding, type ApiVerb, type Codec } from '../../protocol/index.js';
import type { Identity } from '../broker/acl.js';
import { sameIdentity } from '../broker/client-ids.js';
import { codeLabel } from '../telemetry/registry.js';
import { attributesOf, authorize, namespaceOf, seesSecretValues, whoami } from './access.js';
import { forClients, who, type AuditedResult } from './audit.js';
import { canI } from './handlers/can-i.js';
import { secrets } from './handlers/secrets.js';
import { redactSecrets } from './redact.js';
import { answerPieces, encodeAnswer, objectsEncoded, objectsWarmed, prepareAnswer } from './encoding.js';
import { RequestGate, requestLimits, type Slot } from './request-gate.js';
import { jointoken } from './handlers/join-token.js';
import { token } from './handlers/token.js';
import { top } from './handlers/top.js';
import { apply, applyDocuments, qualifiedKind } from './handlers/apply.js';
import { backup } from './handlers/backup.js';
import { cordon, del, describe, drain, get, list, listWaits, scale } from './handlers/objects.js';
import { rollout } from './handlers/rollout.js';
import { logs, watch } from './handlers/streams.js';
import { exec } from './handlers/exec.js';
import { patch } from './handlers/patch.js';
import { cp, input, portforward } from './handlers/channel.js';
import { upgrade } from './handlers/upgrade.js';
import { STREAMING, type ApiCall, type ApiContext, type Handler } from './types.js';

/**
 * Every verb the API serves. A Map, not an object: the verb is the client's string, and an object
 * would also answer `constructor`, `__proto__` or `toString` (protocol/own.ts).
 */
const handlers: ReadonlyMap<string, Handler> = new Map<ApiVerb, Handler>([
  ['apply', apply],
  ['get', get],
  ['list', list],
  ['delete', del],
  ['scale', scale],
  ['describe', describe],
  ['watch', watch],
  ['logs', logs],
  ['exec', exec],
  ['cordon', cordon(true)],
  ['uncordon', cordon(false)],
  ['drain', drain],
  ['rollout', rollout],
  ['token', token],
  ['jointoken', jointoken],
  ['top', top],
  ['backup', backup],
  ['secrets', secrets],
  ['can-i', canI],
  ['upgrade', upgrade],
  ['version', async (ctx) => ({ version: 'v' + ctx.version })],
  ['patch', patch],
  ['portforward', portforward],
  ['cp', cp],
  ['input', input],
  ['whoami', async (_ctx, _req, call) => whoami(call.identity, [...handlers.keys(), 'cancel'])],
]);

/** A stream in progress. */
interface Stream {
  clientId: string;
  /** Whose it is (role and name): the per-identity bound counts these. */
  owner: string;
  cleanups: (() => void)[];
  /** Ends it with an error to its client. */
  end(error: unknown): void;
}

/**
 * The most streams (watch, logs -f, exec, port-forward) one identity keeps open; past it the oldest is ended with
 * an error. A client that vanishes without a word (on an external broker the master sees no disconnect) cannot
 * leave streams behind without bound.
 */
export const maxStreamsPerIdentity = 256;

/**
 * The most a stream's client may fall behind before the stream is ended with SKIFF_ERR_GONE (it lists again and
 * watches from there, as a Kubernetes client does on 410 Gone): pieces handed to the broker and not yet written to
 * its socket. By count and bytes (memory: a 10,000-pod watch's first burst of ADDED events fits), and by age (a
 * client that has not taken a piece for this long is not keeping up; the master's own pauses are far shorter).
 * The bound is per stream — a slow watcher holds only its own backlog, never the broker's shared queue — and, at
 * `identityBacklogFactor` times the stream's, for all of an identity's streams together (`StreamDebts`).
 */
export const streamBacklog: Readonly<{ pieces: number; bytes: number; ageMs: number }> = { pieces: 50_000, bytes: 64 * 1024 * 1024, ageMs: 15_000 };

/**
 * All of an identity's streams together may owe `identityBacklogFactor` times one stream's bound: 256 watches of
 * 20,000 pods on a socket nobody read were 3.5 GB, each stream within its own bound. Past it the identity's client
 * that owes the most is disconnected (its streams' bytes sit in its connection's buffer: only closing it frees them),
 * so one stuck connection of a token does not end the token's other streams.
 */
export const identityBacklogFactor = 4;

/** What each client's streams have handed the broker and not yet seen written, and each identity's total. */
class StreamDebts {
  private readonly byClient = new Map<string, { owner: string; pieces: number; bytes: number }>();
  private readonly byOwner = new Map<string, { pieces: number; bytes: number }>();

  add(owner: string, clientId: string, bytes: number): void {
    const c = this.byClient.get(clientId) ?? { owner, pieces: 0, bytes: 0 };
    const o = this.byOwner.get(owner) ?? { pieces: 0, bytes: 0 };
    this.byClient.set(clientId, c);
    this.byOwner.set(owner, o);
    c.pieces++, (c.bytes += bytes), o.pieces++, (o.bytes += bytes);
  }

  done(owner: string, clientId: string, bytes: number): void {
    const c = this.byClient.get(clientId);
    const o = this.byOwner.get(owner);
    if (c && --c.pieces === 0) this.byClient.delete(clientId);
    else if (c) c.bytes -= bytes;
    if (o && --o.pieces === 0) this.byOwner.delete(owner);
    else if (o) o.bytes -= bytes;
  }

  /** The identity's total when it is past `limit` times the factor, else undefined. */
  over(owner: string, limit: { pieces: number; bytes: number }): { pieces: number; bytes: number } | undefined {
    const o = this.byOwner.get(owner);
    return o && (o.bytes > limit.bytes * identityBacklogFactor || o.pieces >= limit.pieces * identityBacklogFactor) ? o : undefined;
  }

  /** The identity's client that owes the most. */
  biggest(owner: string): string | undefined {
    let most: string | undefined;
    let bytes = -1;
    for (const [id, c] of this.byClient) if (c.owner === owner && c.bytes > bytes) (most = id), (bytes = c.bytes);
    return most;
  }
}

/** Whose a request or stream is, for the bounds per identity: its role and name (every connection of a token shares it). */
const ownerOf = (identity: Identity): string => `${identity.role}:${identity.name}`;

/** What one stream has handed the broker and not yet seen written. */
class Backlog {
  pieces = 0;
  bytes = 0;
  /** Send times of unwritten pieces, oldest first (the age check reads the head). */
  private readonly sent: number[] = [];
  private head = 0;

  add(bytes: number, now: number): void {
    this.pieces++;
    this.bytes += bytes;
    this.sent.push(now);
  }

  done(bytes: number): void {
    this.pieces--;
    this.bytes -= bytes;
    this.head++;
    if (this.head > 1024 && this.head * 2 > this.sent.length) this.sent.splice(0, this.head), (this.head = 0);
  }

  /** Why the client counts as too slow now, if it does. */
  tooSlow(now: number, limit: typeof streamBacklog): string | undefined {
    if (this.pieces >= limit.pieces) return `${this.pieces} pieces unsent (limit ${limit.pieces})`;
    if (this.bytes > limit.bytes) return `${this.bytes} bytes unsent (limit ${limit.bytes})`;
    const oldest = this.head < this.sent.length ? this.sent[this.head] : now;
    if (now - oldest > limit.ageMs) return `its oldest unsent piece is ${Math.round((now - oldest) / 1000)} s old (limit ${limit.ageMs / 1000} s)`;
    return undefined;
  }
}

/** `objectsWarmed` at the last timed list (SKIFF_API_TIMING: each list's `timing` says how many were warmed since). */
let warmedAtLastList = 0;
/**
 * The last timed list's encode (the splice) and write (until the socket took it all), which its own answer cannot
 * carry: the next timed list's `timing` does (`prevSeq`, `prevEncodeMs`, `prevWriteMs`; bench/scale/observe.ts).
 */
let timedLists = 0;
let lastTimed: { prevSeq: number; prevEncodeMs: number; prevWriteMs: number } | undefined;

/** The request/response API over the broker. */
export class ApiServer {
  private readonly streams = new Map<string, Stream>();
  /** Requests answered, by outcome (for /metrics). */
  readonly counters = { ok: 0, error: 0 };
  /** What each client's and identity's streams have handed the broker and not yet seen written. */
  private readonly debts = new StreamDebts();
  /** Requests in flight and waiting, by identity (request-gate.ts). */
  private readonly gate: RequestGate;
  /** Looks for answers overdue in writing (their clients are disconnected). */
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    private readonly ctx: ApiContext,
    /** Publishes an answer to `clientId` (the broker's publishTo: straight onto that client's connection). */
    private readonly publish: (topic: string, payload: Buffer | readonly Buffer[], clientId: string) => Promise<void>,
    /** How far a stream's client may fall behind (tests lower it). */
    private readonly backlogLimit: typeof streamBacklog = streamBacklog,
    /** How many requests an identity has at once (tests lower it). */
    private readonly limits: typeof requestLimits = requestLimits,
  ) {
    this.gate = new RequestGate(limits);
    this.sweeper = setInterval(() => this.sweep(), Math.max(100, limits.writeMs / 4));
    this.sweeper.unref();
  }

  /**
   * A message on `api/{clientId}/req`: handled now when its identity has a free slot, after the identity's earlier
   * requests when it has none (request-gate.ts); a client whose identity has too many waiting is disconnected.
   */
  onRequest(clientId: string, identity: Identity, payload: Buffer, address?: string): Promise<void> {
    const owner = ownerOf(identity);
    const entered = this.gate.enter(owner, clientId, payload.length, (slot) => this.handle(clientId, identity, payload, address, slot));
    if (entered) return entered;
    const { waiting, waitingBytes } = this.limits;
    const why = `more than ${waiting} requests or ${waitingBytes} bytes of them waiting for ${owner}, with ${this.limits.inFlight} being answered`;
    if (this.ctx.disconnect?.(clientId)) {
      this.ctx.log.warn('disconnected an API client: too many requests waiting', { client: clientId, user: identity.name, reason: why });
      return Promise.resolve();
    }
    // An external broker bounds each client's queue itself: the request is refused, under its id when it has one.
    let id = '';
    let codec: Codec = 'msgpack';
    try {
      const d = decodeObject<ApiRequest>(payload);
      codec = d.codec;
      if (typeof d.value?.id === 'string') id = d.value.id;
    } catch {
      // answered without an id
    }
    this.counters.error++;
    return this.respond(clientId, identity, { id, ok: false, error: toWireError(new SkiffError('SKIFF_ERR_UNAVAILABLE', `too many requests: ${why}; retry later`)) }, codec).catch(() => undefined);
  }

  /**
   * Disconnects the clients whose answer has been in writing for longer than the limit (they stopped reading); a slot
   * whose client cannot be disconnected is given back.
   */
  private sweep(): void {
    for (const slot of this.gate.overdue(Date.now())) {
      if (this.ctx.disconnect?.(slot.clientId))
        this.ctx.log.warn('disconnected an API client: it did not take its answer', { client: slot.clientId, reason: `an answer unwritten for more than ${this.limits.writeMs / 1000} s` });
      else this.gate.release(slot);
    }
  }

  /**
   * A request from `address`, in its slot. Malformed payloads get an error answer when they carry an id.
   * Every request meets the rule table (access.ts) before its handler runs; what a view identity gets back has
   * no Secret value in it (redact.ts), answers and streamed pieces alike.
   */
  private async handle(clientId: string, identity: Identity, payload: Buffer, address: string | undefined, slot: Slot): Promise<void> {
    let codec: Codec = 'msgpack';
    let encoding: AnswerEncoding = 'msgpack';
    let id = '';
    let req: ApiRequest | undefined;
    const began = performance.now();
    const by = who(identity, clientId, address);
    try {
      // Measured before decoding: what is too big is never parsed (the answer has no id to carry).
      const tooLarge = payloadTooLarge('request', payload.length, maxRequestBytes);
      if (tooLarge) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', tooLarge);
      const d = decodeObject<ApiRequest>(payload);
      codec = d.codec;
      req = d.value;
      // The id first: a request broken in any other way still gets its error under its own id.
      if (typeof req.id === 'string') id = req.id;
      const c = new Checker('request');
      c.string(req.id, 'id', true);
      c.string(req.verb, 'verb', true);
      if (c.oneOf(req.encoding, 'encoding', answerEncodings) && req.encoding === 'records' && codec === 'json')
        c.fail('encoding', 'records is binary msgpack: ask in msgpack (a JSON request is answered in JSON)', req.encoding);
      try {
        c.throwIfAny();
      } catch (err) {
        throw new SkiffError('SKIFF_ERR_BAD_REQUEST', (err as Error).message);
      }
      id = req.id;
      if (req.encoding === 'records') encoding = 'records';
      if (req.verb === 'cancel') {
        slot.writingSince = Date.now();
        return await this.cancel(clientId, identity, String(req.ref ?? ''), id, codec);
      }
      const handler = handlers.get(req.verb);
      if (!handler) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `request: verb: unknown verb "${req.verb}"; verbs: ${[...handlers.keys(), 'cancel'].join(', ')}`);
      // A namespaced token works in its namespace unless it names another (which the rules then refuse).
      const ns = namespaceOf(identity);
      if (ns && (req.namespace === undefined || req.namespace === '')) req = { ...req, namespace: ns };
      authorize(identity, attributesOf(req));
      const call = this.makeCall(clientId, identity, id, codec);
      const handling = performance.now();
      const answer = await handler(this.ctx, req, call);
      slot.writingSince = Date.now();
      // SKIFF_API_TIMING=1 (the scale bench's probe): a list's or get's answer says where its time went on the master,
      // `receivedAt` on the wall clock to a fraction of a ms (timeOrigin + now), as the probe's thread dates its send.
      const timing = (req.verb === 'list' || req.verb === 'get') && process.env.SKIFF_API_TIMING === '1' ? { receivedAt: performance.timeOrigin + began, queuedMs: handling - began, handlerMs: performance.now() - handling, waitMs: 0, ...listWaits.get(answer as object), list: req.verb === 'list' ? 1 : 0 } : undefined;
      this.ctx.audit.request(by, req, { result: answer });
      this.observe(req.verb, 'ok', began);
      if (answer === STREAMING) return;
      const result = req.verb === 'apply' ? { results: forClients((answer as { results: AuditedResult[] }).results) } : answer;
      this.counters.ok++;
      await this.respond(clientId, identity, { id, ok: true, result }, codec, encoding, timing);
    } catch (err) {
      slot.writingSince ??= Date.now();
      this.counters.error++;
      this.observe(req && typeof req.verb === 'string' ? req.verb : 'malformed', codeLabel(toWireError(err)), began);
      const asked = id && req ? req : { verb: 'malformed request' };
      this.ctx.audit.request(by, asked, { error: err });
      await this.respond(clientId, identity, { id, ok: false, error: toWireError(err) }, codec).catch(() => undefined);
    }
  }

  /**
   * A manifest published on `skiff/v1/apply`: applied atomically (every document of the payload is stored, or
   * none, so a board never sees half an application), the outcome on `skiff/v1/events` (and the namespace's
   * events) as JSON — the payload is YAML or JSON text, so the client is a text client. A refusal (no right to
   * apply, not UTF-8, unparsable) is an event too.
   */
  async onApply(clientId: string, identity: Identity, payload: Buffer, address?: string): Promise<void> {
    const source = `${identity.name} (${clientId})`;
    const by = who(identity, clientId, address);
    const namespace = namespaceOf(identity);
    try {
      authorize(identity, { verb: 'apply' });
      const tooLarge = payloadTooLarge('skiff/v1/apply', payload.length, maxRequestBytes);
      if (tooLarge) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', tooLarge);
      const text = new TextDecoder('utf-8', { fatal: true }).decode(payload);
      const audited = await applyDocuments(this.ctx.objects, identity, parseManifests(text, 'skiff/v1/apply'), namespace ?? 'default', { atomic: true });
      this.ctx.audit.applied(by, audited, 'apply-topic');
      const results = forClients(audited);
      const failed = results.filter((r) => r.action === 'failed');
      const summary = results.map((r) => `${qualifiedKindSafe(r.kind)}/${r.name} ${r.action === 'failed' ? `failed: ${r.error?.message}` : r.action}`).join('; ');
      this.ctx.events.emit({ type: failed.length ? 'Warning' : 'Normal', reason: failed.length ? 'ApplyFailed' : 'Applied', message: summary, results, source, ...(namespace ? { namespace } : {}) }, undefined, 'json');
    } catch (err) {
      const cause = err instanceof TypeError ? new SkiffError('SKIFF_ERR_PARSE', 'skiff/v1/apply: payload is not UTF-8 text') : err;
      const error = toWireError(cause);
      this.ctx.audit.error('apply', by, {}, cause, 'apply-topic');
      this.ctx.events.emit({ type: 'Warning', reason: 'ApplyFailed', message: error.message, error, source, ...(namespace ? { namespace } : {}) }, undefined, 'json');
    }
  }

  /** Counts an answered request (a verb outside the table counts as `unknown`, so labels stay bounded). */
  private observe(verb: string, outcome: string, began: number): void {
    const t = this.ctx.telemetry;
    if (!t) return;
    const v = verb === 'cancel' || verb === 'malformed' || handlers.has(verb) ? verb : 'unknown';
    t.apiRequests.inc({ verb: v, outcome });
    t.apiDuration.observe({ verb: v }, (performance.now() - began) / 1000);
  }

  /** A client disconnected: end its streams, drop its waiting requests. */
  clientGone(clientId: string): void {
    for (const [key, s] of this.streams) if (s.clientId === clientId) this.endStream(key);
    this.gate.clientGone(clientId);
  }

  /** Ends every stream (shutdown). */
  close(): void {
    clearInterval(this.sweeper);
    for (const key of [...this.streams.keys()]) this.endStream(key);
  }

  private makeCall(clientId: string, identity: Identity, id: string, codec: Codec): ApiCall {
    const key = `${clientId}\u0000${id}`;
    let ended = false;
    const end = (error?: unknown) => {
      if (ended) return;
      ended = true;
      this.endStream(key);
      const res: ApiResponse = error ? { id, ok: false, error: toWireError(error), done: true } : { id, ok: true, done: true };
      void this.respond(clientId, identity, res, codec).catch(() => undefined);
    };
    const stream: Stream = { clientId, owner: ownerOf(identity), cleanups: [], end };
    const backlog = new Backlog();
    const call: ApiCall = {
      identity,
      clientId,
      send: (part) => {
        if (ended) return;
        this.track(key, stream);
        const now = Date.now();
        const why = backlog.tooSlow(now, this.backlogLimit);
        if (why) {
          this.ctx.log.warn('ended a stream: the client is not keeping up', { client: clientId, user: identity.name, reason: why });
          return end(new SkiffError('SKIFF_ERR_GONE', `stream ended: the client fell behind (${why}); list again and watch from there`));
        }
        const settled = this.debts.over(stream.owner, this.backlogLimit) && this.settleDebts(stream.owner, clientId);
        if (settled === 'drop') return;
        if (settled === 'end') return end(new SkiffError('SKIFF_ERR_GONE', `stream ended: the streams of ${stream.owner} fell behind; list again and watch from there`));
        const payload = this.encodeAnswer(identity, { id, ok: true, ...part } as ApiResponse, codec);
        backlog.add(payload.length, now);
        this.debts.add(stream.owner, clientId, payload.length);
        void this.send(clientId, identity, payload)
          .catch(() => undefined)
          .finally(() => {
            backlog.done(payload.length);
            this.debts.done(stream.owner, clientId, payload.length);
          });
      },
      onEnd: (fn) => {
        if (ended) return void fn();
        this.track(key, stream);
        stream.cleanups.push(fn);
      },
      end,
    };
    return call;
  }

  /**
   * An identity's streams owe more than they may, all together: its client that owes the most is disconnected
   * (`drop` this piece when that is the sending client; its streams end as it goes). With no broker to disconnect it
   * (an external broker, where pieces are rarely owed for long) the sending stream is ended instead (`end`).
   */
  private settleDebts(owner: string, clientId: string): 'drop' | 'end' | 'send' {
    if (!this.ctx.disconnect) return 'end';
    const biggest = this.debts.biggest(owner) ?? clientId;
    const total = this.debts.over(owner, this.backlogLimit)!;
    // False when it is already going (its bytes are let go as its connection closes): nothing more to do.
    if (this.ctx.disconnect(biggest)) {
      const reason = `the streams of ${owner} have ${total.pieces} pieces, ${total.bytes} bytes unsent (limit ${identityBacklogFactor} × ${this.backlogLimit.pieces} pieces, ${identityBacklogFactor} × ${this.backlogLimit.bytes} bytes)`;
      this.ctx.log.warn('disconnected an API client: its streams are not keeping up', { client: biggest, user: owner, reason });
    }
    return biggest === clientId ? 'drop' : 'send';
  }

  /** Records an open stream; past maxStreamsPerIdentity, the owner's oldest is ended (Map order is opening order). */
  private track(key: string, stream: Stream): void {
    if (this.streams.has(key)) return;
    this.streams.set(key, stream);
    let count = 0;
    for (const s of this.streams.values()) if (s.owner === stream.owner) count++;
    if (count <= maxStreamsPerIdentity) return;
    for (const [k, s] of this.streams)
      if (s.owner === stream.owner && k !== key) {
        s.end(new SkiffError('SKIFF_ERR_UNAVAILABLE', `more than ${maxStreamsPerIdentity} open streams for ${stream.owner}: the oldest was closed`));
        return;
      }
  }

  private async cancel(clientId: string, identity: Identity, ref: string, id: string, codec: Codec): Promise<void> {
    const key = `${clientId}\u0000${ref}`;
    const known = this.streams.has(key);
    this.endStream(key);
    if (known) await this.respond(clientId, identity, { id: ref, ok: true, done: true }, codec);
    await this.respond(clientId, identity, { id, ok: true, result: { cancelled: known } }, codec);
  }

  private endStream(key: string): void {
    const s = this.streams.get(key);
    if (!s) return;
    this.streams.delete(key);
    for (const fn of s.cleanups) {
      try {
        fn();
      } catch {
        // cleanup is best effort
      }
    }
  }

  /**
   * Publishes an answer on `api/{clientId}/res` — only while `clientId` is still connected as the identity that
   * asked: after it is gone another identity may connect with the same id, and must not read the answer.
   */
  private async respond(clientId: string, identity: Identity, res: ApiResponse, codec: Codec, encoding?: AnswerEncoding, timing?: Record<string, number>): Promise<void> {
    const preparingAt = performance.now();
    const encodedBefore = objectsEncoded;
    const preparing = prepareAnswer(res as unknown as Record<string, unknown>, codec, encoding); // a list's new bytes, in budgeted turns
    if (preparing) await preparing;
    // What the answer says of its own making (SKIFF_API_TIMING): the encode and write after it are the client's to time.
    if (!timing) return this.send(clientId, identity, this.answerPieces(identity, res, codec, encoding));
    // A get says its own parts only: `seq` and the previous answer's encode and write are the lists' (one probe thread).
    if (timing.list !== 1) {
      res = { ...res, timing: { ...timing, prepareMs: performance.now() - preparingAt } } as ApiResponse;
      return this.send(clientId, identity, this.answerPieces(identity, res, codec, encoding));
    }
    const seq = ++timedLists;
    res = { ...res, timing: { ...timing, prepareMs: performance.now() - preparingAt, objectsEncoded: objectsEncoded - encodedBefore, objectsWarmed: objectsWarmed - warmedAtLastList, seq, ...lastTimed } } as ApiResponse;
    warmedAtLastList = objectsWarmed;
    const encodingAt = performance.now();
    const payload = this.answerPieces(identity, res, codec, encoding);
    const writing = performance.now();
    await this.send(clientId, identity, payload);
    lastTimed = { prevSeq: seq, prevEncodeMs: writing - encodingAt, prevWriteMs: performance.now() - writing };
  }

  /**
   * The one place every answer passes: what view access may not read is taken out here. Cached objects' bytes are
   * reused (encoding.ts); an answer redaction changed is a new object, encoded in full.
   */
  private encodeAnswer(identity: Identity, res: ApiResponse, codec: Codec, encoding?: AnswerEncoding): Buffer {
    return encodeAnswer(this.readable(identity, res), codec, encoding);
  }

  /** `encodeAnswer` in pieces to write one after the other (a long list's: not copied into one more buffer). */
  private answerPieces(identity: Identity, res: ApiResponse, codec: Codec, encoding?: AnswerEncoding): Buffer[] {
    return answerPieces(this.readable(identity, res), codec, encoding);
  }

  private readable(identity: Identity, res: ApiResponse): Record<string, unknown> {
    return (seesSecretValues(identity) ? res : redactSecrets(res)) as unknown as Record<string, unknown>;
  }

  private async send(clientId: string, identity: Identity, payload: Buffer | readonly Buffer[]): Promise<void> {
    const holder = this.ctx.holderOf ? this.ctx.holderOf(clientId) : identity;
    if (!sameIdentity(holder, identity)) return;
    return this.publish(topics.apiRes(clientId), payload, clientId);
  }
}

function qualifiedKindSafe(kind: string): string {
  try {
    return qualifiedKind(kind);
  } catch {
    return kind;
  }
}

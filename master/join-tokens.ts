/**
 * Join tokens (docs/security.md "Join tokens"), as kubeadm's bootstrap tokens: the bootstrap token in
 * DATA/join.token (no expiry, no use limit, until `skiff token rotate-join`), and tokens made with
 * `skiff token create --join [NAME] --ttl 24h --uses 10`, kept in the store, listed and revocable. Every
 * token is written as `skiff1:sha256:<CA hash>::<secret>` (protocol/join-token.ts).
 *
 * The master must know each secret, not a digest of it: in the join exchange it proves it knows the token
 * (HMAC keyed by the secret) before the agent sends anything. Kubernetes keeps bootstrap token secrets in
 * plain Secrets for the same reason. A joiner is told which token it used by its connect key (an HMAC of the
 * secret). An expired or used-up token still logs in as a joiner for a week after it stopped working, so
 * the joiner — and the master's log — get a sentence saying why, instead of "bad user name or password".
 */
import { existsSync, readFileSync } from 'node:fs';
import { SkiffError } from '../protocol/index.js';
import { connectKey } from '../protocol/join.js';
import { formatJoinToken, parseJoinToken } from '../protocol/join-token.js';
import type { Store } from './store/types.js';
import { writeAtomic } from './tls/ca.js';

/** Store prefix of join tokens (outside /registry/: never listed by the object API). */
export const joinTokenPrefix = '/skiff/credentials/join/';
const prefix = joinTokenPrefix;
/** The name the bootstrap token is listed under. */
export const BOOTSTRAP = 'bootstrap';
/** Join tokens kept at most (each CONNECT of a joiner looks its key up among them). */
const MAX_TOKENS = 1000;
/** How long a token that stopped working is kept for the message, then forgotten. */
const KEEP_DEAD_MS = 7 * 86_400_000;

/** A join token as stored. */
export interface JoinTokenRecord {
  name: string;
  secret: string;
  createdAt: string;
  /** ISO time after which it joins nothing; none = no expiry. */
  expiresAt?: string;
  /** How many joins it allows; none = any number. */
  usesLimit?: number;
  used: number;
  /** When it was used up. */
  usedUpAt?: string;
}

/** A join token as listed (never with its secret). */
export interface JoinTokenInfo {
  name: string;
  createdAt: string;
  expiresAt?: string;
  usesLimit?: number;
  used: number;
  /** `valid`, `expired` or `used up`. */
  state: 'valid' | 'expired' | 'used up';
}

/** What `create` takes. */
export interface JoinTokenSpec {
  name: string;
  /** Lifetime; 0 or none = no expiry. */
  ttlMs?: number;
  uses?: number;
}

/** Why a token joins nothing now, or undefined while it works. */
function refusal(t: JoinTokenRecord, now: number): string | undefined {
  if (t.expiresAt && Date.parse(t.expiresAt) <= now) return `the join token "${t.name}" expired at ${t.expiresAt}`;
  if (t.usesLimit !== undefined && t.used >= t.usesLimit) return `the join token "${t.name}" has been used up (${t.used} of ${t.usesLimit} joins)`;
  return undefined;
}

function stateOf(t: JoinTokenRecord, now: number): JoinTokenInfo['state'] {
  const why = refusal(t, now);
  return why === undefined ? 'valid' : why.includes('expired') ? 'expired' : 'used up';
}

/** The bootstrap token and the join tokens in the store. */
export class JoinTokens {
  private readonly tokens = new Map<string, JoinTokenRecord>();
  /** connect key → token name. */
  private readonly byKey = new Map<string, string>();
  /** Called after the set of tokens changed (made, revoked, rotated, or changed by another master): an external broker's joiner accounts follow. */
  onChange?: () => void;

  constructor(
    private readonly store: Store,
    private readonly file: string,
    private readonly caHash: string,
    private readonly newSecret: () => string,
  ) {}

  /** Reads DATA/join.token (made or rewritten with the current CA hash) and the stored tokens. Called once at start. */
  async load(): Promise<void> {
    let secret: string | undefined;
    if (existsSync(this.file)) {
      try {
        secret = parseJoinToken(readFileSync(this.file, 'utf8')).secret;
      } catch {
        secret = undefined; // unreadable: a new bootstrap token below
      }
    }
    this.setBootstrap(secret ?? this.newSecret());
    const { entries } = await this.store.list<JoinTokenRecord>(prefix);
    for (const e of entries) this.remember(e.value);
    await this.sweep();
  }

  /** The bootstrap token as an operator copies it. */
  get bootstrapToken(): string {
    return formatJoinToken(this.caHash, this.tokens.get(BOOTSTRAP)!.secret);
  }

  /** A new bootstrap token (file and memory); the old one joins nothing more. Returns the new token. */
  rotateBootstrap(): string {
    this.setBootstrap(this.newSecret());
    this.onChange?.();
    return this.bootstrapToken;
  }

  /** The name of the join token whose connect key is `password`, if any (a joiner's login). */
  nameOfConnectKey(password: string): string | undefined {
    return this.byKey.get(password);
  }

  /** The secret of a token the exchange proves, or undefined when it is gone (revoked, rotated). */
  secretOf(name: string): string | undefined {
    return this.tokens.get(name)?.secret;
  }

  /** Why the named token joins nothing now, or undefined while it works. */
  refusal(name: string, now = Date.now()): string | undefined {
    const t = this.tokens.get(name);
    return t ? refusal(t, now) : `the join token "${name}" was revoked`;
  }

  /** Takes one use of a token for a join; throws SKIFF_ERR_JOIN_REJECTED when it joins nothing now. */
  async use(name: string): Promise<void> {
    if (name === BOOTSTRAP) return; // no limit, no expiry: nothing to count
    for (let attempt = 0; ; attempt++) {
      const entry = await this.store.get<JoinTokenRecord>(prefix + name);
      if (!entry) throw new SkiffError('SKIFF_ERR_JOIN_REJECTED', `the join token "${name}" was revoked`);
      const t = entry.value;
      const why = refusal(t, Date.now());
      if (why) throw new SkiffError('SKIFF_ERR_JOIN_REJECTED', why);
      const used = t.used + 1;
      const next: JoinTokenRecord = { ...t, used, ...(t.usesLimit !== undefined && used >= t.usesLimit ? { usedUpAt: new Date().toISOString() } : {}) };
      try {
        await this.store.update(prefix + name, next, entry.modRevision); // another master's join of the same token retries
        this.remember(next);
        return;
      } catch (err) {
        if (!(err instanceof SkiffError && err.code === 'SKIFF_ERR_CONFLICT') || attempt >= 5) throw err;
      }
    }
  }

  /** Makes a join token; returns it as an operator copies it (shown once). */
  async create(spec: JoinTokenSpec): Promise<{ name: string; token: string; expiresAt?: string }> {
    await this.sweep();
    if (spec.name === BOOTSTRAP || this.tokens.has(spec.name)) throw new SkiffError('SKIFF_ERR_ALREADY_EXISTS', `join token "${spec.name}" already exists`);
    if (this.tokens.size > MAX_TOKENS) throw new SkiffError('SKIFF_ERR_UNAVAILABLE', `there are ${MAX_TOKENS} join tokens already; revoke some (skiff token list --join)`);
    const now = Date.now();
    const t: JoinTokenRecord = {
      name: spec.name,
      secret: this.newSecret(),
      createdAt: new Date(now).toISOString(),
      ...(spec.ttlMs ? { expiresAt: new Date(now + spec.ttlMs).toISOString() } : {}),
      ...(spec.uses !== undefined ? { usesLimit: spec.uses } : {}),
      used: 0,
    };
    await this.store.create(prefix + t.name, t);
    this.remember(t);
    this.onChange?.();
    return { name: t.name, token: formatJoinToken(this.caHash, t.secret), ...(t.expiresAt ? { expiresAt: t.expiresAt } : {}) };
  }

  /** Every join token, the bootstrap one first. */
  list(now = Date.now()): JoinTokenInfo[] {
    const all = [...this.tokens.values()].map(({ name, createdAt, expiresAt, usesLimit, used }) => ({ name, createdAt, ...(expiresAt ? { expiresAt } : {}), ...(usesLimit !== undefined ? { usesLimit } : {}), used, state: stateOf(this.tokens.get(name)!, now) }));
    return all.sort((a, b) => (a.name === BOOTSTRAP ? -1 : b.name === BOOTSTRAP ? 1 : a.name.localeCompare(b.name)));
  }

  /** Revokes a join token (not the bootstrap one: rotate that); SKIFF_ERR_NOT_FOUND when there is none. */
  async revoke(name: string): Promise<void> {
    if (name === BOOTSTRAP) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', 'the bootstrap join token is replaced, not revoked: skiff token rotate-join');
    const t = this.tokens.get(name);
    if (!t) throw new SkiffError('SKIFF_ERR_NOT_FOUND', `join token "${name}" not found`);
    this.forget(t);
    await this.store.delete(prefix + name).catch(() => undefined);
    this.onChange?.();
  }

  /**
   * A change another master made under the join tokens' prefix (Credentials.follow): the cache follows the store.
   * Creates, uses and revocations made here arrive too and change nothing.
   */
  followed(key: string, value: JoinTokenRecord | undefined): void {
    const name = key.slice(prefix.length);
    if (name === BOOTSTRAP) return; // the bootstrap token lives in DATA/join.token
    if (value) this.remember(value);
    else {
      const t = this.tokens.get(name);
      if (t) this.forget(t);
    }
    this.onChange?.();
  }

  /** The secrets of every join token that works now (the external broker's joiner accounts). */
  workingSecrets(now = Date.now()): { name: string; secret: string }[] {
    return [...this.tokens.values()].filter((t) => refusal(t, now) === undefined).map(({ name, secret }) => ({ name, secret }));
  }

  private setBootstrap(secret: string): void {
    const old = this.tokens.get(BOOTSTRAP);
    if (old) this.forget(old);
    writeAtomic(this.file, formatJoinToken(this.caHash, secret) + '\n', 0o600);
    this.remember({ name: BOOTSTRAP, secret, createdAt: new Date().toISOString(), used: 0 });
  }

  private remember(t: JoinTokenRecord): void {
    const old = this.tokens.get(t.name);
    if (old) this.byKey.delete(connectKey(old.secret));
    this.tokens.set(t.name, t);
    this.byKey.set(connectKey(t.secret), t.name);
  }

  private forget(t: JoinTokenRecord): void {
    this.tokens.delete(t.name);
    this.byKey.delete(connectKey(t.secret));
  }

  /** Forgets tokens that stopped working more than a week ago. */
  private async sweep(now = Date.now()): Promise<void> {
    for (const t of [...this.tokens.values()]) {
      const deadSince = t.expiresAt && Date.parse(t.expiresAt) <= now ? Date.parse(t.expiresAt) : t.usedUpAt ? Date.parse(t.usedUpAt) : undefined;
      if (t.name !== BOOTSTRAP && deadSince !== undefined && now - deadSince > KEEP_DEAD_MS) {
        this.forget(t);
        await this.store.delete(prefix + t.name).catch(() => undefined);
      }
    }
  }
}

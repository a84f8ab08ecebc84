/**
 * Credentials: the admin token and the join token (files in the data dir, created on first start,
 * mode 0600), and per-node credentials issued at join. Node credentials are 256-bit random secrets,
 * so a SHA-256 digest is enough to store them (a slow KDF only matters for guessable passwords) and
 * checking one costs microseconds even in a reconnect storm.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { SkiffError } from '../protocol/index.js';
import { connectKey } from '../protocol/join.js';
import type { Store } from './store/types.js';

/** Store prefix of node credentials (outside /registry/: never listed by the API). */
const nodePrefix = '/skiff/credentials/nodes/';
/** Store prefix of user tokens. */
const tokenPrefix = '/skiff/credentials/tokens/';

/** What a user token may do: read (view), change workloads (edit), or everything incl. tokens (admin). */
export type Access = 'view' | 'edit' | 'admin';

/** A user token as listed (never with its secret). */
export interface TokenInfo {
  name: string;
  access: Access;
  createdAt: string;
}

/** A fresh random secret (256 bits), URL-safe, never starting with "-". */
export function newSecret(): string {
  // Never starting with "-": `skiff --token -abc…` and `skiff-agent --token -abc…` read that as a flag (1 in 64 tokens).
  for (;;) {
    const s = randomBytes(32).toString('base64url');
    if (s[0] !== '-') return s;
  }
}

function digest(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

/** Constant-time string equality. */
export function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Writes a secret file atomically, mode 0600. */
function writeSecret(path: string, secret: string): void {
  writeFileSync(path + '.tmp', secret + '\n', { mode: 0o600 });
  renameSync(path + '.tmp', path);
}

/** Reads a secret file, creating it with a new secret (mode 0600, atomically) if absent. */
export function loadOrCreateSecret(path: string): string {
  if (existsSync(path)) {
    const s = readFileSync(path, 'utf8').trim();
    if (s.length >= 16) return s;
  }
  const s = newSecret();
  writeSecret(path, s);
  return s;
}

/** A node credential as listed (never with its secret). */
export interface NodeCredentialInfo {
  node: string;
  issuedAt: string;
}

/** Admin, join and node credentials. */
export class Credentials {
  readonly adminToken: string;
  private joinSecret: { token: string; connectKey: string };
  private readonly joinTokenFile: string;
  private readonly nodeDigests = new Map<string, { digest: string; issuedAt: string }>();
  private readonly tokens = new Map<string, TokenInfo & { digest: string }>();

  constructor(
    private readonly store: Store,
    dataDir: string,
  ) {
    this.adminToken = loadOrCreateSecret(join(dataDir, 'admin.token'));
    this.joinTokenFile = join(dataDir, 'join.token');
    const token = loadOrCreateSecret(this.joinTokenFile);
    this.joinSecret = { token, connectKey: connectKey(token) };
  }

  /** The join token (DATA/join.token). */
  get joinToken(): string {
    return this.joinSecret.token;
  }

  /** The MQTT password a joiner connects with: an HMAC of the join token (protocol/join.ts), never the token. */
  get joinConnectKey(): string {
    return this.joinSecret.connectKey;
  }

  /**
   * Replaces the join token (file and memory) and returns the new one. Node credentials already issued stay
   * valid, revoked ones stay revoked (they are gone from the store): rotation only changes who can join next.
   */
  rotateJoinToken(): string {
    const token = newSecret();
    writeSecret(this.joinTokenFile, token);
    this.joinSecret = { token, connectKey: connectKey(token) };
    return token;
  }

  /** Loads node credential digests into memory. Called once at start. */
  async load(): Promise<void> {
    const { entries } = await this.store.list<{ digest: string; issuedAt: string }>(nodePrefix);
    for (const e of entries) this.nodeDigests.set(e.key.slice(nodePrefix.length), { digest: e.value.digest, issuedAt: e.value.issuedAt });
    const tokens = await this.store.list<TokenInfo & { digest: string }>(tokenPrefix);
    for (const e of tokens.entries) this.tokens.set(e.value.name, e.value);
  }

  /** The access of a user token, when `password` is its secret. */
  verifyToken(name: string, password: string): Access | undefined {
    const t = this.tokens.get(name);
    return t && safeEqual(t.digest, digest(password)) ? t.access : undefined;
  }

  /** Creates a user token and returns its secret (shown once, stored only as a digest). */
  async createToken(name: string, access: Access): Promise<string> {
    if (name === 'admin' || this.tokens.has(name)) throw new SkiffError('SKIFF_ERR_ALREADY_EXISTS', `tokens "${name}" already exists`);
    if (this.nodeDigests.has(name)) throw new SkiffError('SKIFF_ERR_ALREADY_EXISTS', `"${name}" is the name of a node; MQTT user names must be unique`);
    const secret = newSecret();
    const t = { name, access, createdAt: new Date().toISOString(), digest: digest(secret) };
    await this.store.create(tokenPrefix + name, t);
    this.tokens.set(name, t);
    return secret;
  }

  /** Lists user tokens (names, access, creation time). */
  listTokens(): TokenInfo[] {
    return [...this.tokens.values()].map(({ name, access, createdAt }) => ({ name, access, createdAt })).sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Revokes a user token; SKIFF_ERR_NOT_FOUND when there is none of that name. */
  async revokeToken(name: string): Promise<void> {
    if (!this.tokens.delete(name)) throw new SkiffError('SKIFF_ERR_NOT_FOUND', `tokens "${name}" not found`);
    await this.store.delete(tokenPrefix + name).catch(() => undefined);
  }

  /** True when `password` is the node's credential. */
  verifyNode(node: string, password: string): boolean {
    const d = this.nodeDigests.get(node);
    return d !== undefined && safeEqual(d.digest, digest(password));
  }

  /** True when a credential was issued for the node. */
  hasNode(node: string): boolean {
    return this.nodeDigests.has(node);
  }

  /**
   * Issues a node credential. A name that already has one is refused unless `replace` (the node object
   * was deleted, or the operator allows re-joining), so a join token alone cannot take over a node.
   */
  async issueNode(node: string, replace: boolean): Promise<string> {
    if (this.tokens.has(node)) throw new SkiffError('SKIFF_ERR_JOIN_REJECTED', `"${node}" is the name of a user token; MQTT user names must be unique, join under another --name`);
    if (this.nodeDigests.has(node) && !replace)
      throw new SkiffError('SKIFF_ERR_JOIN_REJECTED', `node "${node}" has already joined; delete it first (skiff delete node ${node}) or join under another --name`);
    const secret = newSecret();
    const key = nodePrefix + node;
    const value = { digest: digest(secret), issuedAt: new Date().toISOString() };
    const existing = await this.store.get(key);
    if (existing) await this.store.update(key, value);
    else await this.store.create(key, value);
    this.nodeDigests.set(node, value);
    return secret;
  }

  /** Every node credential issued and not revoked (`skiff token list --nodes`). */
  listNodes(): NodeCredentialInfo[] {
    return [...this.nodeDigests].map(([node, d]) => ({ node, issuedAt: d.issuedAt })).sort((a, b) => a.node.localeCompare(b.node));
  }

  /** Revokes a node's credential (the node was deleted). */
  async revokeNode(node: string): Promise<void> {
    this.nodeDigests.delete(node);
    try {
      await this.store.delete(nodePrefix + node);
    } catch (err) {
      if (!(err instanceof SkiffError && err.code === 'SKIFF_ERR_NOT_FOUND')) throw err;
    }
  }
}

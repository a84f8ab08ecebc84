/**
 * Credentials: the admin token (a file in the data dir, created on first start, mode 0600), the join tokens
 * (join-tokens.ts), and per-node credentials issued at join. Node credentials are 256-bit random secrets,
 * so a SHA-256 digest is enough to store them (a slow KDF only matters for guessable passwords) and
 * checking one costs microseconds even in a reconnect storm. Each node record also lists the serials of the
 * node certificates signed for it (the current one and the one it replaced): a certificate is honoured only
 * while its serial is listed, so deleting the node locks its certificate out too (docs/security.md).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { SkiffError } from '../protocol/index.js';
import { JoinTokens, joinTokenPrefix, type JoinTokenRecord } from './join-tokens.js';
import type { Store, Watch } from './store/types.js';

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
  /** The one namespace the token's reads and writes are confined to; absent: cluster-wide. */
  namespace?: string;
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

function scopeOf(t: TokenInfo): { access: Access; namespace?: string } {
  return t.namespace ? { access: t.access, namespace: t.namespace } : { access: t.access };
}

/** A node credential as listed (never with its secret). */
export interface NodeCredentialInfo {
  node: string;
  issuedAt: string;
}

/** A node's record in the store: its credential's digest and its certificates' serials, newest first. */
interface NodeRecord {
  digest: string;
  issuedAt: string;
  certs?: string[];
}

/** Certificate serials kept per node: the current one and the one it replaced (in use until the agent reconnects). */
const KEPT_SERIALS = 2;

/**
 * Told when a credential is issued or revoked, so an external broker's accounts follow (master/external/accounts.ts).
 * Called after the store write, and awaited: a node's grant is sent only once its broker account exists.
 */
export interface CredentialSink {
  nodeIssued(node: string, secret: string): Promise<void>;
  nodeRevoked(node: string): Promise<void>;
  tokenCreated(name: string, secret: string, scope: { access: Access; namespace?: string }): Promise<void>;
  tokenRevoked(name: string): Promise<void>;
}

/** Prefix of everything Credentials keeps in the store. */
const credentialsPrefix = '/skiff/credentials/';

/** Admin, join and node credentials. */
export class Credentials {
  /** Where issued and revoked credentials are also told (an external broker); none with the embedded one. */
  sink?: CredentialSink;
  private following?: Watch;
  readonly adminToken: string;
  /** The bootstrap join token and those made with `skiff token create --join`. */
  readonly joinTokens: JoinTokens;
  private readonly nodeDigests = new Map<string, NodeRecord>();
  private readonly tokens = new Map<string, TokenInfo & { digest: string }>();

  /** `caHash` is the cluster CA's fingerprint, which every join token carries. */
  constructor(
    private readonly store: Store,
    dataDir: string,
    caHash: string,
  ) {
    this.adminToken = loadOrCreateSecret(join(dataDir, 'admin.token'));
    this.joinTokens = new JoinTokens(store, join(dataDir, 'join.token'), caHash, newSecret);
  }

  /** The bootstrap join token as an operator copies it (DATA/join.token): `skiff1:sha256:<CA hash>::<secret>`. */
  get joinToken(): string {
    return this.joinTokens.bootstrapToken;
  }

  /**
   * Replaces the bootstrap join token (file and memory) and returns the new one. Node credentials already issued
   * stay valid, revoked ones stay revoked (they are gone from the store): rotation only changes who can join next.
   */
  rotateJoinToken(): string {
    return this.joinTokens.rotateBootstrap();
  }

  /** Loads node credential digests and join tokens into memory. Called once at start. */
  async load(): Promise<void> {
    await this.joinTokens.load();
    const { entries, revision } = await this.store.list<NodeRecord>(nodePrefix);
    for (const e of entries) this.nodeDigests.set(e.key.slice(nodePrefix.length), { digest: e.value.digest, issuedAt: e.value.issuedAt, ...(e.value.certs ? { certs: e.value.certs } : {}) });
    const tokens = await this.store.list<TokenInfo & { digest: string }>(tokenPrefix);
    for (const e of tokens.entries) this.tokens.set(e.value.name, e.value);
    this.loadedAt = Math.min(revision, tokens.revision);
  }

  private loadedAt = 0;

  /**
   * Follows the store from the load on: credentials issued, tokens made and revoked by other masters on the same
   * store (several masters, docs/ha.md) reach this one's cache. A lost watch (compacted history) reloads.
   */
  follow(onError: (err: Error) => void): void {
    const apply = (key: string, value: unknown) => {
      if (key.startsWith(nodePrefix)) {
        const node = key.slice(nodePrefix.length);
        if (value) this.nodeDigests.set(node, value as NodeRecord);
        else this.nodeDigests.delete(node);
      } else if (key.startsWith(tokenPrefix)) {
        const t = value as (TokenInfo & { digest: string }) | undefined;
        if (t) this.tokens.set(t.name, t);
        else this.tokens.delete(key.slice(tokenPrefix.length));
      } else if (key.startsWith(joinTokenPrefix)) this.joinTokens.followed(key, value as JoinTokenRecord | undefined);
    };
    const start = (from: number) => {
      this.following = this.store.watch(credentialsPrefix, from, (e) => apply(e.key, e.type === 'put' ? e.value : undefined), (err) => {
        onError(err);
        void this.reload().then(start, onError);
      });
    };
    start(this.loadedAt);
  }

  /** Stops following the store. */
  unfollow(): void {
    this.following?.close();
    this.following = undefined;
  }

  private async reload(): Promise<number> {
    const { entries, revision } = await this.store.list(credentialsPrefix);
    this.nodeDigests.clear();
    this.tokens.clear();
    for (const e of entries) {
      if (e.key.startsWith(nodePrefix)) this.nodeDigests.set(e.key.slice(nodePrefix.length), e.value as NodeRecord);
      else if (e.key.startsWith(tokenPrefix)) this.tokens.set((e.value as TokenInfo).name, e.value as TokenInfo & { digest: string });
      else if (e.key.startsWith(joinTokenPrefix)) this.joinTokens.followed(e.key, e.value as JoinTokenRecord);
    }
    return revision;
  }

  /** The access (and namespace) of a user token, when `password` is its secret. */
  verifyToken(name: string, password: string): { access: Access; namespace?: string } | undefined {
    const t = this.tokens.get(name);
    return t && safeEqual(t.digest, digest(password)) ? scopeOf(t) : undefined;
  }

  /** The access and namespace of a user token by name (`skiff auth can-i --as NAME`), never its secret. */
  tokenScope(name: string): { access: Access; namespace?: string } | undefined {
    const t = this.tokens.get(name);
    return t && scopeOf(t);
  }

  /** Creates a user token and returns its secret (shown once, stored only as a digest). */
  async createToken(name: string, access: Access, namespace?: string): Promise<string> {
    if (name === 'admin' || this.tokens.has(name)) throw new SkiffError('SKIFF_ERR_ALREADY_EXISTS', `tokens "${name}" already exists`);
    if (this.nodeDigests.has(name)) throw new SkiffError('SKIFF_ERR_ALREADY_EXISTS', `"${name}" is the name of a node; MQTT user names must be unique`);
    const secret = newSecret();
    const t = { name, access, ...(namespace ? { namespace } : {}), createdAt: new Date().toISOString(), digest: digest(secret) };
    await this.store.create(tokenPrefix + name, t);
    this.tokens.set(name, t);
    await this.sink?.tokenCreated(name, secret, scopeOf(t));
    return secret;
  }

  /** Lists user tokens (names, access, namespace, creation time). */
  listTokens(): TokenInfo[] {
    return [...this.tokens.values()]
      .map(({ name, access, namespace, createdAt }) => ({ name, access, ...(namespace ? { namespace } : {}), createdAt }))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Revokes a user token; SKIFF_ERR_NOT_FOUND when there is none of that name. */
  async revokeToken(name: string): Promise<void> {
    if (!this.tokens.delete(name)) throw new SkiffError('SKIFF_ERR_NOT_FOUND', `tokens "${name}" not found`);
    await this.store.delete(tokenPrefix + name).catch(() => undefined);
    await this.sink?.tokenRevoked(name);
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
   * Issues a node credential (with the serial of the certificate signed at join, if any). A name that already has
   * one is refused unless `replace` (the node object was deleted, or the operator allows re-joining), so a join
   * token alone cannot take over a node. A new credential forgets the old one's certificates.
   */
  async issueNode(node: string, replace: boolean, certSerial?: string): Promise<string> {
    if (this.tokens.has(node)) throw new SkiffError('SKIFF_ERR_JOIN_REJECTED', `"${node}" is the name of a user token; MQTT user names must be unique, join under another --name`);
    if (this.nodeDigests.has(node) && !replace)
      throw new SkiffError('SKIFF_ERR_JOIN_REJECTED', `node "${node}" has already joined; delete it first (skiff delete node ${node}) or join under another --name`);
    const secret = newSecret();
    const key = nodePrefix + node;
    const value: NodeRecord = { digest: digest(secret), issuedAt: new Date().toISOString(), ...(certSerial ? { certs: [certSerial.toUpperCase()] } : {}) };
    const existing = await this.store.get(key);
    if (existing) await this.store.update(key, value);
    else await this.store.create(key, value);
    this.nodeDigests.set(node, value);
    await this.sink?.nodeIssued(node, secret);
    return secret;
  }

  /** True when a certificate with this serial was signed for the node and the node is not revoked. */
  verifyNodeCert(node: string, serial: string): boolean {
    return this.nodeDigests.get(node)?.certs?.includes(serial.toUpperCase()) === true;
  }

  /**
   * Records a certificate signed for the node (at join or renewal); the one before it stays valid until the next
   * renewal, so the agent can reconnect with the new one at its pace. SKIFF_ERR_NOT_FOUND for a revoked node.
   */
  async addNodeCert(node: string, serial: string): Promise<void> {
    const key = nodePrefix + node;
    const entry = await this.store.get<NodeRecord>(key);
    if (!entry || !this.nodeDigests.has(node)) throw new SkiffError('SKIFF_ERR_NOT_FOUND', `node "${node}" has no credential (deleted?)`);
    const value: NodeRecord = { ...entry.value, certs: [serial.toUpperCase(), ...(entry.value.certs ?? [])].slice(0, KEPT_SERIALS) };
    await this.store.update(key, value, entry.modRevision);
    this.nodeDigests.set(node, value);
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
    await this.sink?.nodeRevoked(node);
  }
}

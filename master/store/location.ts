/**
 * Where a store lives, as the operator writes it: `sqlite:DIR` (the embedded default, DIR/skiff.db)
 * or `etcd://[USER[:PASSWORD]@]HOST[:PORT],HOST[:PORT]/ROOT` (`etcds://` for TLS), with etcd's own
 * TLS and auth options beside it (`--etcd-cafile/--etcd-certfile/--etcd-keyfile`,
 * `--etcd-username/--etcd-password`, named after etcdctl's `--cacert/--cert/--key/--user`).
 * Parsing is pure (no file is read here), so every rule is a row in a table test.
 */
import { join } from 'node:path';
import { SkiffError } from '../../protocol/errors.js';

/** The file of the SQLite store inside a data dir. */
export const sqliteFileName = 'skiff.db';

/** The default root under which a cluster keeps its keys in etcd. */
export const defaultEtcdRoot = '/skiff';

/** etcd's client port when a host names none. */
export const defaultEtcdPort = 2379;

/** The SQLite store of a data dir. */
export interface SqliteLocation {
  kind: 'sqlite';
  dir: string;
  /** `dir/skiff.db`. */
  path: string;
}

/** An etcd cluster (one root in it). */
export interface EtcdLocation {
  kind: 'etcd';
  /** `http://host:port` or `https://host:port`, as the etcd3 client takes them. */
  hosts: string[];
  tls: boolean;
  /** Every key of this cluster lives under this one path segment (`/skiff`), so clusters can share an etcd. */
  root: string;
  username?: string;
  password?: string;
  /** PEM files: the CA that signed etcd's server certificate, and a client certificate and key. */
  caFile?: string;
  certFile?: string;
  keyFile?: string;
}

/** Where a store lives. */
export type StoreLocation = SqliteLocation | EtcdLocation;

/** etcd's TLS and auth flags (`--etcd-cafile` ...), given beside the URL. */
export interface EtcdFlags {
  caFile?: string;
  certFile?: string;
  keyFile?: string;
  username?: string;
  password?: string;
}

/** The --etcd-* flags of parsed command-line values (undefined when none is given). */
export function etcdFlags(v: Record<string, unknown>): EtcdFlags | undefined {
  const str = (name: string) => (typeof v[name] === 'string' ? (v[name] as string) : undefined);
  const flags: EtcdFlags = { caFile: str('etcd-cafile'), certFile: str('etcd-certfile'), keyFile: str('etcd-keyfile'), username: str('etcd-username'), password: str('etcd-password') };
  return Object.values(flags).some((x) => x !== undefined) ? flags : undefined;
}

/** The SQLite location of a data dir. */
export function sqliteAt(dir: string): SqliteLocation {
  return { kind: 'sqlite', dir, path: join(dir, sqliteFileName) };
}

/**
 * Parses a store URL with its etcd flags. Throws SKIFF_ERR_BAD_REQUEST naming the part and the rule,
 * e.g. `--store: host "h1:99999": port must be 1–65535`.
 */
export function parseStoreUrl(url: string, flags: EtcdFlags = {}): StoreLocation {
  const scheme = /^([a-z]+):/.exec(url)?.[1];
  if (scheme === 'sqlite') {
    refuseEtcdFlags(flags);
    const dir = url.slice('sqlite:'.length);
    if (dir === '') fail(`"${url}": give the data dir, e.g. sqlite:/var/lib/skiff`);
    return sqliteAt(dir);
  }
  if (scheme !== 'etcd' && scheme !== 'etcds') fail(`"${redact(url)}": must be sqlite:DIR, etcd://HOST:PORT,... or etcds://HOST:PORT,... (TLS)`);
  if (!url.startsWith(`${scheme}://`)) fail(`"${redact(url)}": must start with ${scheme}://`);
  return parseEtcd(url.slice(scheme.length + 3), scheme === 'etcds', flags, url);
}

/** The location as it may be printed: no password. */
export function describeLocation(loc: StoreLocation): string {
  if (loc.kind === 'sqlite') return `sqlite:${loc.dir}`;
  const user = loc.username ? `${encodeURIComponent(loc.username)}@` : '';
  return `${loc.tls ? 'etcds' : 'etcd'}://${user}${loc.hosts.map((h) => h.replace(/^https?:\/\//, '')).join(',')}${loc.root}`;
}

function parseEtcd(rest: string, tls: boolean, flags: EtcdFlags, url: string): EtcdLocation {
  if (/[?#]/.test(rest)) fail(`"${redact(url)}": no query or fragment is understood; use the --etcd-* flags`);
  const at = rest.lastIndexOf('@');
  const userinfo = at >= 0 ? rest.slice(0, at) : undefined;
  const afterUser = at >= 0 ? rest.slice(at + 1) : rest;
  const slash = afterUser.indexOf('/');
  const hostList = slash >= 0 ? afterUser.slice(0, slash) : afterUser;
  const root = slash >= 0 ? afterUser.slice(slash) : defaultEtcdRoot;
  if (!/^\/[A-Za-z0-9_.-]+$/.test(root)) fail(`root "${root}": must be one path segment of letters, digits, "_", "." or "-", such as /skiff`);
  if (hostList === '') fail(`"${redact(url)}": give at least one host, e.g. ${tls ? 'etcds' : 'etcd'}://127.0.0.1:2379`);
  const hosts = hostList.split(',').map((h) => `${tls ? 'https' : 'http'}://${parseHost(h)}`);
  const loc: EtcdLocation = { kind: 'etcd', hosts, tls, root };
  Object.assign(loc, credentials(userinfo, flags), tlsFiles(tls, flags));
  return loc;
}

// `host`, `host:port`, `[v6]`, `[v6]:port` → `host:port` with the default port filled in.
function parseHost(h: string): string {
  const m = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::(\d+))?$/.exec(h);
  if (!m) fail(`host "${h}": must be HOST or HOST:PORT (an IPv6 address in brackets)`);
  const port = m[2] === undefined ? defaultEtcdPort : Number(m[2]);
  if (!Number.isInteger(port) || port < 1 || port > 65535) fail(`host "${h}": port must be 1–65535`);
  return `${m[1]}:${port}`;
}

function credentials(userinfo: string | undefined, flags: EtcdFlags): Pick<EtcdLocation, 'username' | 'password'> {
  let username = flags.username;
  let password = flags.password;
  if (userinfo !== undefined) {
    if (flags.username !== undefined || flags.password !== undefined) fail('give the etcd user either in the URL or with --etcd-username/--etcd-password, not both');
    const colon = userinfo.indexOf(':');
    username = decode(colon >= 0 ? userinfo.slice(0, colon) : userinfo, 'user name');
    password = colon >= 0 ? decode(userinfo.slice(colon + 1), 'password') : undefined;
  }
  if (username === '') fail('the etcd user name must not be empty');
  if (username !== undefined && password === undefined) fail(`etcd user "${username}" needs a password (in the URL as USER:PASSWORD@ or with --etcd-password)`);
  if (username === undefined && password !== undefined) fail('--etcd-password needs --etcd-username');
  return username === undefined ? {} : { username, password };
}

function tlsFiles(tls: boolean, flags: EtcdFlags): Pick<EtcdLocation, 'caFile' | 'certFile' | 'keyFile'> {
  const given = (['caFile', 'certFile', 'keyFile'] as const).filter((k) => flags[k] !== undefined);
  if (!tls && given.length > 0) fail(`${given.map(flagName).join(', ')}: TLS files need an etcds:// URL`);
  for (const k of given) if (flags[k] === '') fail(`${flagName(k)}: must name a file`);
  if ((flags.certFile === undefined) !== (flags.keyFile === undefined)) fail('--etcd-certfile and --etcd-keyfile go together (a client certificate and its key)');
  return Object.fromEntries(given.map((k) => [k, flags[k]]));
}

function refuseEtcdFlags(flags: EtcdFlags): void {
  const given = (Object.keys(flags) as (keyof EtcdFlags)[]).filter((k) => flags[k] !== undefined);
  if (given.length > 0) fail(`${given.map(flagName).join(', ')}: only for etcd:// and etcds:// stores`);
}

function flagName(k: keyof EtcdFlags): string {
  return { caFile: '--etcd-cafile', certFile: '--etcd-certfile', keyFile: '--etcd-keyfile', username: '--etcd-username', password: '--etcd-password' }[k];
}

function decode(s: string, what: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return fail(`the ${what} in the URL is not valid percent-encoding`);
  }
}

// Never echo a password back in an error message.
function redact(url: string): string {
  return url.replace(/\/\/([^@/]*):([^@/]*)@/, '//$1:***@');
}

function fail(message: string): never {
  throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `--store: ${message}`);
}

/**
 * The client config: kubeconfig's shape for Skiff — named clusters (an MQTT URL), users (a user name and
 * token) and contexts (a cluster, a user and a default namespace), with a current context:
 *
 *   apiVersion: v1
 *   kind: Config
 *   current-context: greenhouse
 *   clusters: [{name: greenhouse, cluster: {server: mqtt://10.0.0.2:1883}}]
 *   users:    [{name: greenhouse-admin, user: {username: admin, token: ...}}]
 *   contexts: [{name: greenhouse, context: {cluster: greenhouse, user: greenhouse-admin, namespace: farm}}]
 *
 * The single-cluster file of earlier versions, `{server, user, token}`, still reads: as one context named
 * `default`. Several files merge as KUBECONFIG's do (mergeConfigs). The CLI reads it; `skiff master`
 * and `skiff up` add their context to it (client-config-file.ts), so both sides share this file.
 */
import { parse } from 'yaml';
import { isObject } from './check.js';
import { SkiffError } from './errors.js';

/** A named cluster: the master's URL, and the CA an mqtts:// master must present a certificate of. */
export interface NamedCluster {
  name: string;
  cluster: {
    server: string;
    /** The cluster CA, base64 of its PEM (kubeconfig's field). */
    'certificate-authority-data'?: string;
    /** The cluster CA as a PEM file. */
    'certificate-authority'?: string;
  };
}

/** A named user: the MQTT user name (`admin` or a token's name) and its token. */
export interface NamedUser {
  name: string;
  user: { username?: string; token?: string };
}

/** A named context. */
export interface NamedContext {
  name: string;
  context: { cluster: string; user?: string; namespace?: string };
}

/** One client config file. */
export interface ClientConfigFile {
  apiVersion: 'v1';
  kind: 'Config';
  'current-context'?: string;
  clusters: NamedCluster[];
  users: NamedUser[];
  contexts: NamedContext[];
}

/** The name the single-cluster format's only context gets. */
export const legacyContextName = 'default';

/** An empty config. */
export function emptyConfig(): ClientConfigFile {
  return { apiVersion: 'v1', kind: 'Config', clusters: [], users: [], contexts: [] };
}

const stanzas = ['clusters', 'users', 'contexts'] as const;
type Stanza = (typeof stanzas)[number];

/** Parses a config file's text (YAML or JSON; either format); throws SKIFF_ERR_PARSE / _VALIDATION naming the file and field. */
export function parseClientConfig(text: string, source: string): ClientConfigFile {
  let v: unknown;
  try {
    v = text.trim() === '' ? {} : parse(text, { uniqueKeys: true });
  } catch (err) {
    throw new SkiffError('SKIFF_ERR_PARSE', `config file ${source}: not valid YAML or JSON: ${(err as Error).message.split('\n')[0]}`);
  }
  if (v === null || v === undefined) v = {};
  if (!isObject(v)) throw new SkiffError('SKIFF_ERR_PARSE', `config file ${source}: must be a map (a kubeconfig-like Config, or {server, user, token})`);
  const bad = (field: string, rule: string) => new SkiffError('SKIFF_ERR_VALIDATION', `config file ${source}: ${field}: ${rule}`);
  if (!stanzas.some((s) => s in v) && !('current-context' in v)) return fromLegacy(v, bad);
  const out = emptyConfig();
  if (v['current-context'] !== undefined && v['current-context'] !== null) {
    if (typeof v['current-context'] !== 'string') throw bad('current-context', 'must be a string');
    if (v['current-context'] !== '') out['current-context'] = v['current-context'];
  }
  for (const s of stanzas) {
    const list = v[s] ?? [];
    if (!Array.isArray(list)) throw bad(s, 'must be a list');
    const seen = new Set<string>();
    list.forEach((e: unknown, i: number) => {
      const f = `${s}[${i}]`;
      if (!isObject(e) || typeof e.name !== 'string' || e.name === '') throw bad(`${f}.name`, 'must be a non-empty string');
      if (seen.has(e.name)) throw bad(`${f}.name`, `duplicate name "${e.name}"`);
      seen.add(e.name);
      (out[s] as unknown[]).push(checkEntry(s, e, f, bad));
    });
  }
  return out;
}

function checkEntry(s: Stanza, e: Record<string, any>, f: string, bad: (field: string, rule: string) => SkiffError): NamedCluster | NamedUser | NamedContext {
  const key = s === 'clusters' ? 'cluster' : s === 'users' ? 'user' : 'context';
  const body = e[key] ?? {};
  if (!isObject(body)) throw bad(`${f}.${key}`, 'must be a map');
  const str = (field: string, required = false) => {
    const x = body[field];
    if (x === undefined || x === null) {
      if (required) throw bad(`${f}.${key}.${field}`, 'is required');
      return undefined;
    }
    if (typeof x !== 'string') throw bad(`${f}.${key}.${field}`, 'must be a string');
    return x;
  };
  if (s === 'clusters')
    return { name: e.name, cluster: dropUndefined({ server: str('server', true)!, 'certificate-authority-data': caData(str('certificate-authority-data'), `${f}.cluster`, bad), 'certificate-authority': str('certificate-authority') }) };
  if (s === 'users') return { name: e.name, user: dropUndefined({ username: str('username'), token: str('token') }) };
  return { name: e.name, context: dropUndefined({ cluster: str('cluster', true)!, user: str('user'), namespace: str('namespace') }) };
}

/** A CA given as data must be base64 of a PEM certificate (checked when read, named by its field). */
function caData(v: string | undefined, at: string, bad: (field: string, rule: string) => SkiffError): string | undefined {
  if (v !== undefined && !Buffer.from(v, 'base64').toString('utf8').includes('-----BEGIN CERTIFICATE-----'))
    throw bad(`${at ? at + '.' : ''}certificate-authority-data`, 'must be base64 of a PEM certificate');
  return v;
}

/** `{server, user, token, certificate-authority-data}` → one cluster, user and context named `default`. */
function fromLegacy(v: Record<string, any>, bad: (field: string, rule: string) => SkiffError): ClientConfigFile {
  for (const f of ['server', 'user', 'token', 'certificate-authority-data'] as const) if (v[f] !== undefined && typeof v[f] !== 'string') throw bad(f, 'must be a string');
  const out = emptyConfig();
  if (v.server === undefined && v.user === undefined && v.token === undefined) return out;
  const n = legacyContextName;
  if (v.server !== undefined) out.clusters.push({ name: n, cluster: dropUndefined({ server: v.server, 'certificate-authority-data': caData(v['certificate-authority-data'], '', bad) }) });
  out.users.push({ name: n, user: dropUndefined({ username: v.user, token: v.token }) });
  out.contexts.push({ name: n, context: { cluster: v.server !== undefined ? n : '', user: n } });
  out['current-context'] = n;
  return out;
}

function dropUndefined<T extends Record<string, unknown>>(o: T): T {
  for (const k of Object.keys(o)) if (o[k] === undefined) delete o[k];
  return o;
}

/** Several files merged, with the file that defines each stanza (where a change to it is written). */
export interface MergedConfig {
  config: ClientConfigFile;
  /** `clusters/NAME`, `users/NAME`, `contexts/NAME`, `current-context` → the path of the file that defines it. */
  origin: Map<string, string>;
}

/**
 * Merges files in order as kubectl merges KUBECONFIG: for every cluster, user and context name the first
 * file that defines it wins, and so does the first file that sets current-context.
 */
export function mergeConfigs(files: { path: string; config: ClientConfigFile }[]): MergedConfig {
  const config = emptyConfig();
  const origin = new Map<string, string>();
  for (const { path, config: c } of files) {
    if (c['current-context'] && !origin.has('current-context')) {
      config['current-context'] = c['current-context'];
      origin.set('current-context', path);
    }
    for (const s of stanzas)
      for (const e of c[s] as { name: string }[]) {
        if (origin.has(`${s}/${e.name}`)) continue;
        origin.set(`${s}/${e.name}`, path);
        (config[s] as unknown[]).push(e);
      }
  }
  return { config, origin };
}

/** What a context resolves to. */
export interface ResolvedContext {
  name?: string;
  server?: string;
  /** The cluster CA: base64 of its PEM, or a PEM file. */
  caData?: string;
  caFile?: string;
  username?: string;
  token?: string;
  namespace?: string;
}

/** The named (or current) context's cluster, user and namespace; a named context that does not exist is an error. */
export function resolveContext(config: ClientConfigFile, name?: string): ResolvedContext {
  const ctxName = name ?? config['current-context'];
  if (!ctxName) return {};
  const ctx = config.contexts.find((c) => c.name === ctxName);
  if (!ctx) {
    if (name === undefined) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `current-context "${ctxName}" is not a context of the client config (see "skiff config get-contexts")`);
    throw new SkiffError('SKIFF_ERR_NOT_FOUND', `context "${ctxName}" not found in the client config (see "skiff config get-contexts")`);
  }
  const cluster = config.clusters.find((c) => c.name === ctx.context.cluster);
  const user = ctx.context.user !== undefined ? config.users.find((u) => u.name === ctx.context.user) : undefined;
  return dropUndefined({
    name: ctxName,
    server: cluster?.cluster.server,
    caData: cluster?.cluster['certificate-authority-data'],
    caFile: cluster?.cluster['certificate-authority'],
    username: user?.user.username,
    token: user?.user.token,
    namespace: ctx.context.namespace,
  });
}

/** A context with its own cluster and user of the same name, as `skiff master` and `skiff up` write it. */
export interface ContextEntry {
  name: string;
  server: string;
  /** The cluster CA, base64 of its PEM. */
  caData?: string;
  username: string;
  token: string;
  namespace?: string;
}

/** Adds or replaces the cluster, user and context named `e.name` and makes it current; returns a new config. */
export function upsertContext(c: ClientConfigFile, e: ContextEntry): ClientConfigFile {
  const out = structuredClone(c);
  const put = <T extends { name: string }>(list: T[], item: T) => {
    const i = list.findIndex((x) => x.name === item.name);
    if (i >= 0) list[i] = item;
    else list.push(item);
  };
  put(out.clusters, { name: e.name, cluster: { server: e.server, ...(e.caData ? { 'certificate-authority-data': e.caData } : {}) } });
  put(out.users, { name: e.name, user: { username: e.username, token: e.token } });
  const old = out.contexts.find((x) => x.name === e.name);
  put(out.contexts, { name: e.name, context: dropUndefined({ cluster: e.name, user: e.name, namespace: e.namespace ?? old?.context.namespace }) });
  out['current-context'] = e.name;
  return out;
}

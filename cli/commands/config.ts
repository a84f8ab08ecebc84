/**
 * `skiff config get-contexts|current-context|use-context|set-context|set-cluster|set-credentials|delete-context|view`:
 * kubectl config's subcommands over the client config (protocol/client-config.ts). Reads merge the files
 * of SKIFF_CONFIG as KUBECONFIG does; each change is written to the file that defines what it changes, a
 * new entry to the first file that exists (protocol/client-config-file.ts).
 */
import {
  SkiffError, configChain, destinationOf, loadConfigChain, updateConfigFile,
  type ClientConfigFile, type ConfigChain, type NamedContext,
} from '../../protocol/index.js';
import { str, type Command, type Values } from '../args.js';
import { toJson, toYaml } from '../format/output.js';
import { renderTable } from '../format/table.js';
import type { CommandContext } from '../types.js';

type Sub = (ctx: CommandContext, chain: ConfigChain, values: Values, args: string[]) => number;

const subs: Record<string, Sub> = {
  'get-contexts'(ctx, chain, values, args) {
    const { config } = loadConfigChain(chain);
    const list = config.contexts.filter((c) => args.length === 0 || args.includes(c.name));
    const missing = args.find((a) => !config.contexts.some((c) => c.name === a));
    if (missing) throw new SkiffError('SKIFF_ERR_NOT_FOUND', `context ${missing} not found`);
    if (str(values, 'output') === 'name') ctx.io.stdout(list.map((c) => c.name + '\n').join(''));
    else {
      const rows = list.map((c) => [c.name === config['current-context'] ? '*' : '', c.name, c.context.cluster, c.context.user ?? '', c.context.namespace ?? '']);
      ctx.io.stdout(renderTable(['CURRENT', 'NAME', 'CLUSTER', 'AUTHINFO', 'NAMESPACE'], rows));
    }
    return 0;
  },
  'current-context'(ctx, chain) {
    const current = loadConfigChain(chain).config['current-context'];
    if (!current) throw new SkiffError('SKIFF_ERR_NOT_FOUND', 'current-context is not set');
    ctx.io.stdout(current + '\n');
    return 0;
  },
  'use-context'(ctx, chain, _values, [name]) {
    const merged = loadConfigChain(chain);
    if (!name) throw usage('use-context CONTEXT_NAME');
    if (!merged.config.contexts.some((c) => c.name === name)) throw new SkiffError('SKIFF_ERR_NOT_FOUND', `no context exists with the name: "${name}"`);
    updateConfigFile(destinationOf(merged, chain, 'current-context'), (c) => ({ ...c, 'current-context': name }));
    ctx.io.stdout(`Switched to context "${name}".\n`);
    return 0;
  },
  'set-context'(ctx, chain, values, [arg]) {
    const merged = loadConfigChain(chain);
    const name = values.current ? merged.config['current-context'] : arg;
    if (!name) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', values.current ? 'current-context is not set' : 'skiff config set-context: a context name is required (or --current)');
    const exists = merged.config.contexts.find((c) => c.name === name);
    const change = { cluster: str(values, 'cluster'), user: str(values, 'user-name') ?? str(values, 'user'), namespace: str(values, 'namespace') };
    if (!exists && !change.cluster) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `context "${name}" does not exist: give at least --cluster to create it`);
    updateConfigFile(destinationOf(merged, chain, `contexts/${name}`), (c) => put(c, 'contexts', { name, context: merge(c.contexts.find((x) => x.name === name)?.context ?? exists?.context, change) }));
    ctx.io.stdout(`Context "${name}" ${exists ? 'modified' : 'created'}.\n`);
    return 0;
  },
  'set-cluster'(ctx, chain, values, [name]) {
    if (!name) throw usage('set-cluster NAME --server URL');
    const server = str(values, 'server');
    if (!server || !/^(mqtts?|wss?|tcp|ssl):\/\/[^/]+/.test(server)) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `--server: must be a URL such as mqtt://HOST:1883, got "${server ?? ''}"`);
    const merged = loadConfigChain(chain);
    updateConfigFile(destinationOf(merged, chain, `clusters/${name}`), (c) => put(c, 'clusters', { name, cluster: { server } }));
    ctx.io.stdout(`Cluster "${name}" set.\n`);
    return 0;
  },
  'set-credentials'(ctx, chain, values, [name]) {
    if (!name) throw usage('set-credentials NAME --token TOKEN [--username USER]');
    const merged = loadConfigChain(chain);
    const old = merged.config.users.find((u) => u.name === name)?.user ?? {};
    const user = { ...old, ...(str(values, 'username') ? { username: str(values, 'username') } : {}), ...(str(values, 'token') ? { token: str(values, 'token') } : {}) };
    updateConfigFile(destinationOf(merged, chain, `users/${name}`), (c) => put(c, 'users', { name, user }));
    ctx.io.stdout(`User "${name}" set.\n`);
    return 0;
  },
  'delete-context'(ctx, chain, _values, [name]) {
    if (!name) throw usage('delete-context NAME');
    const merged = loadConfigChain(chain);
    const file = merged.origin.get(`contexts/${name}`);
    if (!file) throw new SkiffError('SKIFF_ERR_NOT_FOUND', `cannot delete context ${name}, not in ${chain.paths.join(':')}`);
    if (merged.config['current-context'] === name) ctx.io.stderr('warning: this removed your active context, use "skiff config use-context" to select a different one\n');
    updateConfigFile(file, (c) => ({ ...c, contexts: c.contexts.filter((x) => x.name !== name) }));
    ctx.io.stdout(`deleted context ${name} from ${file}\n`);
    return 0;
  },
  view(ctx, chain, values) {
    let { config } = loadConfigChain(chain);
    if (values.minify) config = minify(config);
    // Tokens are secrets: shown only with --raw, as kubectl redacts credentials.
    if (!values.raw) config = { ...config, users: config.users.map((u) => ({ name: u.name, user: { ...u.user, ...(u.user.token !== undefined ? { token: 'REDACTED' } : {}) } })) };
    ctx.io.stdout(str(values, 'output') === 'json' ? toJson(config) : toYaml(config));
    return 0;
  },
};

function usage(what: string): SkiffError {
  return new SkiffError('SKIFF_ERR_BAD_REQUEST', `skiff config ${what}: missing argument (see "skiff config --help")`);
}

function merge(old: NamedContext['context'] | undefined, change: { cluster?: string; user?: string; namespace?: string }): NamedContext['context'] {
  const out = { ...(old ?? { cluster: '' }) };
  if (change.cluster !== undefined) out.cluster = change.cluster;
  if (change.user !== undefined) out.user = change.user;
  if (change.namespace !== undefined) out.namespace = change.namespace;
  return out;
}

/** Adds or replaces a named entry in one of a file's lists. */
function put<K extends 'clusters' | 'users' | 'contexts'>(c: ClientConfigFile, list: K, entry: ClientConfigFile[K][number]): ClientConfigFile {
  const items = (c[list] as { name: string }[]).filter((x) => x.name !== entry.name);
  const at = (c[list] as { name: string }[]).findIndex((x) => x.name === entry.name);
  items.splice(at < 0 ? items.length : at, 0, entry);
  return { ...c, [list]: items };
}

/** Only the current context, its cluster and its user (kubectl config view --minify). */
function minify(c: ClientConfigFile): ClientConfigFile {
  const ctx = c.contexts.find((x) => x.name === c['current-context']);
  if (!ctx) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', 'current-context must exist in order to minify');
  return { ...c, contexts: [ctx], clusters: c.clusters.filter((x) => x.name === ctx.context.cluster), users: c.users.filter((x) => x.name === ctx.context.user) };
}

/** The config verb. */
export const config: Command = {
  summary: 'show and change the client config: contexts, clusters and users (as kubectl config)',
  usage: `Usage:
  skiff config get-contexts [NAME...] [-o name]        list the contexts; * marks the current one
  skiff config current-context                          print the current context
  skiff config use-context NAME                         make NAME the current context
  skiff config set-context NAME|--current [--cluster C] [--user U] [--namespace NS]
  skiff config set-cluster NAME --server mqtt://HOST:1883
  skiff config set-credentials NAME --token TOKEN [--username admin]
  skiff config delete-context NAME
  skiff config view [--minify] [--raw] [-o yaml|json]   the merged config (tokens REDACTED unless --raw)

The files: --config FILE alone, else SKIFF_CONFIG (FILE:FILE:... merged as KUBECONFIG: the first file
that defines a name wins; a change is written to the file that defines it, a new entry to the first
file that exists), else ~/.skiff/config.json. "skiff master" and "skiff up" add their context there.

Flags:
  --cluster NAME           set-context: the cluster
  --user NAME              set-context: the user entry (also --user-name)
  --namespace NS           set-context: the default namespace of the context
  --current                set-context: change the current context
  --server URL             set-cluster: the master's MQTT URL
  --token TOKEN            set-credentials: the token
  --username NAME          set-credentials: the MQTT user name (admin, or a token's name)
  --minify, --raw          view: only the current context; show tokens
  -o, --output FORMAT      get-contexts: name; view: yaml (default) or json
`,
  options: {
    cluster: { type: 'string' },
    'user-name': { type: 'string' },
    namespace: { type: 'string' },
    current: { type: 'boolean' },
    username: { type: 'string' },
    minify: { type: 'boolean' },
    raw: { type: 'boolean' },
    output: { type: 'string', short: 'o' },
  },
  contextNamespace: false,
  async run(ctx, values, positionals) {
    const [sub, ...args] = positionals;
    const fn = sub !== undefined && Object.hasOwn(subs, sub) ? subs[sub] : undefined;
    if (!fn) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `skiff config: ${sub ? `unknown subcommand "${sub}"` : 'a subcommand is required'}; subcommands: ${Object.keys(subs).join(', ')}`);
    return fn(ctx, configChain(str(values, 'config'), ctx.io.env), values, args);
  },
};

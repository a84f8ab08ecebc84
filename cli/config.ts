/**
 * Where the CLI finds the master, its credentials, the cluster CA and the default namespace. Precedence,
 * highest first: flags (`--server`, `--token`, `--user`, `--certificate-authority FILE`, `-n`), environment
 * (SKIFF_SERVER, SKIFF_TOKEN, SKIFF_USER, SKIFF_CA_FILE), the context (`--context NAME`, else the current
 * context) of the client config — `--config FILE`, else the files listed in SKIFF_CONFIG (colon-separated
 * and merged, as KUBECONFIG), else ~/.skiff/config.json; protocol/client-config.ts has the format, which
 * also reads the single-cluster `{server, user, token, certificate-authority-data}` file the master writes
 * into DATA_DIR/config.json — then the defaults below. An mqtts:// master must present a certificate
 * signed by the CA (docs/security.md). An empty variable counts as unset, as an empty KUBECONFIG does.
 */
import { readFileSync } from 'node:fs';
import { SkiffError, configChain, durationFlag, loadConfigChain, readConfigFile, resolveContext, type ResolvedContext } from '../protocol/index.js';
import type { Connection } from './types.js';

export { defaultConfigPath } from '../protocol/index.js';

/** Defaults: a master on this machine, the admin user, answers within 10 s. */
export const defaults = Object.freeze({ server: 'mqtt://127.0.0.1:1883', user: 'admin', timeoutMs: 10_000 });

/** The single-cluster view of a config file: what `skiff up` reads from the master's DATA_DIR/config.json. */
export interface ClientConfig {
  server?: string;
  user?: string;
  token?: string;
  /** The cluster CA, base64 of its PEM (kubeconfig's `certificate-authority-data`). */
  'certificate-authority-data'?: string;
}

/** The connection-related flags, as parsed. */
export interface ConnectionFlags {
  server?: string;
  token?: string;
  user?: string;
  config?: string;
  context?: string;
  'certificate-authority'?: string;
  'request-timeout'?: string;
}

/** Reads one config file's current context; a missing file is fine unless `explicit`. */
export function readConfig(path: string, explicit: boolean): ClientConfig {
  const c = readConfigFile(path, explicit);
  const r = c ? resolveContext(c) : {};
  return { server: r.server, user: r.username, token: r.token, ...(r.caData ? { 'certificate-authority-data': r.caData } : {}) };
}

/** The context the flags and environment select (empty when there is no config). */
export function selectedContext(flags: Pick<ConnectionFlags, 'config' | 'context'>, env: Record<string, string | undefined>): ResolvedContext {
  const merged = loadConfigChain(configChain(flags.config, env));
  return resolveContext(merged.config, flags.context);
}

/** A PEM file's text, or SKIFF_ERR_BAD_REQUEST naming where it was given. */
function readPem(path: string, where: string): string {
  let pem: string;
  try {
    pem = readFileSync(path, 'utf8');
  } catch (err) {
    throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `${where}: cannot read ${path}: ${(err as Error).message}`);
  }
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `${where}: ${path} is not a PEM certificate`);
  return pem;
}

/** The CA to check the master with: `--certificate-authority FILE` / SKIFF_CA_FILE, else the context's cluster's. */
function caOf(flags: ConnectionFlags, env: Record<string, string | undefined>, ctx: ResolvedContext): string | undefined {
  const path = flags['certificate-authority'] ?? (env.SKIFF_CA_FILE || undefined);
  if (path !== undefined) return readPem(path, '--certificate-authority');
  if (ctx.caFile !== undefined) return readPem(ctx.caFile, `context "${ctx.name}": certificate-authority`);
  return ctx.caData === undefined ? undefined : Buffer.from(ctx.caData, 'base64').toString('utf8');
}

/** Resolves flags, environment and config into one connection. */
export function resolveConnection(flags: ConnectionFlags, env: Record<string, string | undefined>): Connection {
  const ctx = selectedContext(flags, env);
  const fromEnv = (name: string) => env[name] || undefined;
  const server = flags.server ?? fromEnv('SKIFF_SERVER') ?? ctx.server ?? defaults.server;
  if (!/^(mqtts?|wss?|tcp|ssl):\/\/[^/]+/.test(server))
    throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `--server: must be a URL such as mqtt://HOST:1883, got "${server}"`);
  const ca = caOf(flags, env, ctx);
  return {
    server,
    user: flags.user ?? fromEnv('SKIFF_USER') ?? ctx.username ?? defaults.user,
    token: flags.token ?? fromEnv('SKIFF_TOKEN') ?? ctx.token,
    ...(ca !== undefined ? { ca } : {}),
    timeoutMs: flags['request-timeout'] !== undefined ? durationFlag('--request-timeout', flags['request-timeout']) : defaults.timeoutMs,
  };
}

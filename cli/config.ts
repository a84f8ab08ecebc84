/**
 * Where the CLI finds the master and its credentials. Precedence, highest first: flags
 * (`--server`, `--token`, `--user`, `--certificate-authority FILE`), environment (SKIFF_SERVER, SKIFF_TOKEN,
 * SKIFF_USER, SKIFF_CA_FILE), the client config file (`--config FILE`, SKIFF_CONFIG, or ~/.skiff/config.json;
 * JSON `{server, user, token, certificate-authority-data}` as the master writes into DATA_DIR/config.json — the
 * CA as base64 of its PEM, as a kubeconfig's field of that name), then the defaults below. An mqtts:// master
 * must present a certificate signed by that CA (docs/security.md).
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { SkiffError, durationFlag } from '../protocol/index.js';
import type { Connection } from './types.js';

/** Defaults: a master on this machine, the admin user, answers within 10 s. */
export const defaults = Object.freeze({ server: 'mqtt://127.0.0.1:1883', user: 'admin', timeoutMs: 10_000 });

/** The client config file's shape. */
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
  'certificate-authority'?: string;
  'request-timeout'?: string;
}

/** The default config file path: ~/.skiff/config.json (HOME from the given environment first). */
export function defaultConfigPath(env: Record<string, string | undefined>): string {
  return join(env.HOME || homedir(), '.skiff', 'config.json');
}

/** Reads a config file; a missing default file is fine, a missing explicit one is an error. */
export function readConfig(path: string, explicit: boolean): ClientConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if (!explicit && (err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `cannot read the config file ${path}: ${(err as Error).message}`);
  }
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw new SkiffError('SKIFF_ERR_PARSE', `config file ${path}: not valid JSON: ${(err as Error).message}`);
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new SkiffError('SKIFF_ERR_PARSE', `config file ${path}: must be a JSON object {server, user, token}`);
  const c = v as Record<string, unknown>;
  for (const f of ['server', 'user', 'token', 'certificate-authority-data'] as const)
    if (c[f] !== undefined && typeof c[f] !== 'string') throw new SkiffError('SKIFF_ERR_VALIDATION', `config file ${path}: ${f}: must be a string`);
  const caData = c['certificate-authority-data'] as string | undefined;
  if (caData !== undefined && !Buffer.from(caData, 'base64').toString('utf8').includes('-----BEGIN CERTIFICATE-----'))
    throw new SkiffError('SKIFF_ERR_VALIDATION', `config file ${path}: certificate-authority-data: must be base64 of a PEM certificate`);
  return c as ClientConfig;
}

/** The CA to check the master with: `--certificate-authority FILE` / SKIFF_CA_FILE, else the config's data. */
function caOf(flags: ConnectionFlags, env: Record<string, string | undefined>, file: ClientConfig): string | undefined {
  const path = flags['certificate-authority'] ?? env.SKIFF_CA_FILE;
  if (path !== undefined) {
    let pem: string;
    try {
      pem = readFileSync(path, 'utf8');
    } catch (err) {
      throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `--certificate-authority: cannot read ${path}: ${(err as Error).message}`);
    }
    if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `--certificate-authority: ${path} is not a PEM certificate`);
    return pem;
  }
  const data = file['certificate-authority-data'];
  return data === undefined ? undefined : Buffer.from(data, 'base64').toString('utf8');
}

/** Resolves flags, environment and config file into one connection. */
export function resolveConnection(flags: ConnectionFlags, env: Record<string, string | undefined>): Connection {
  const explicit = flags.config ?? env.SKIFF_CONFIG;
  const file = readConfig(explicit ?? defaultConfigPath(env), explicit !== undefined);
  const server = flags.server ?? env.SKIFF_SERVER ?? file.server ?? defaults.server;
  if (!/^(mqtts?|wss?|tcp|ssl):\/\/[^/]+/.test(server))
    throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `--server: must be a URL such as mqtt://HOST:1883, got "${server}"`);
  return {
    server,
    user: flags.user ?? env.SKIFF_USER ?? file.user ?? defaults.user,
    token: flags.token ?? env.SKIFF_TOKEN ?? file.token,
    ...(caOf(flags, env, file) !== undefined ? { ca: caOf(flags, env, file) } : {}),
    timeoutMs: flags['request-timeout'] !== undefined ? durationFlag('--request-timeout', flags['request-timeout']) : defaults.timeoutMs,
  };
}

/**
 * Where the CLI finds the master and its credentials. Precedence, highest first: flags
 * (`--server`, `--token`, `--user`), environment (SKIFF_SERVER, SKIFF_TOKEN, SKIFF_USER), the client
 * config file (`--config FILE`, SKIFF_CONFIG, or ~/.skiff/config.json; JSON `{server, user, token}` as
 * the master writes into DATA_DIR/config.json), then the defaults below.
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
}

/** The connection-related flags, as parsed. */
export interface ConnectionFlags {
  server?: string;
  token?: string;
  user?: string;
  config?: string;
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
  for (const f of ['server', 'user', 'token'] as const)
    if (c[f] !== undefined && typeof c[f] !== 'string') throw new SkiffError('SKIFF_ERR_VALIDATION', `config file ${path}: ${f}: must be a string`);
  return c as ClientConfig;
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
    timeoutMs: flags['request-timeout'] !== undefined ? durationFlag('--request-timeout', flags['request-timeout']) : defaults.timeoutMs,
  };
}

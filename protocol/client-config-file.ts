/**
 * Client config files on disk: which files (`--config FILE`, else SKIFF_CONFIG as a list like KUBECONFIG,
 * else ~/.skiff/config.json), reading and merging them, and writing a change back to the file kubectl would
 * write it to: a stanza that exists is changed in the file that defines it, a new one goes to the first file
 * that exists, or to the last of the list when none does. Files are written atomically, mode 0600 (they
 * hold tokens), as JSON when the name ends in .json and as YAML otherwise.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { stringify } from 'yaml';
import { SkiffError } from './errors.js';
import { mergeConfigs, parseClientConfig, upsertContext, type ClientConfigFile, type ContextEntry, type MergedConfig } from './client-config.js';

/** The files to read, and whether a missing one is an error (`--config` names one file that must exist). */
export interface ConfigChain {
  paths: string[];
  explicit: boolean;
}

/** The default config file: ~/.skiff/config.json (HOME from the given environment first). */
export function defaultConfigPath(env: Record<string, string | undefined>): string {
  return join(env.HOME || homedir(), '.skiff', 'config.json');
}

/** `--config FILE` alone (no merging, as kubectl's --kubeconfig), else SKIFF_CONFIG's list, else the default file. */
export function configChain(flag: string | undefined, env: Record<string, string | undefined>): ConfigChain {
  if (flag !== undefined) return { paths: [flag], explicit: true };
  const list = (env.SKIFF_CONFIG ?? '').split(delimiter).filter((p) => p !== '');
  return list.length ? { paths: list, explicit: false } : { paths: [defaultConfigPath(env)], explicit: false };
}

/** Reads one file; undefined when it does not exist (and may not). */
export function readConfigFile(path: string, mustExist: boolean): ClientConfigFile | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if (!mustExist && (err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `cannot read the config file ${path}: ${(err as Error).message}`);
  }
  return parseClientConfig(text, path);
}

/** Reads and merges a chain (missing files of SKIFF_CONFIG are skipped, as kubectl skips them). */
export function loadConfigChain(chain: ConfigChain): MergedConfig & { existing: string[] } {
  const files: { path: string; config: ClientConfigFile }[] = [];
  for (const path of chain.paths) {
    const config = readConfigFile(path, chain.explicit);
    if (config) files.push({ path, config });
  }
  return { ...mergeConfigs(files), existing: files.map((f) => f.path) };
}

/** Writes one file atomically with mode 0600. */
export function writeConfigFile(path: string, config: ClientConfigFile): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const text = path.endsWith('.json') ? JSON.stringify(config, null, 2) + '\n' : stringify(config);
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, text, { mode: 0o600 });
  renameSync(tmp, path);
}

/** Where a change to `key` (`contexts/NAME`, `current-context`, ...) is written (see the file comment). */
export function destinationOf(merged: MergedConfig & { existing: string[] }, chain: ConfigChain, key: string): string {
  return merged.origin.get(key) ?? merged.existing[0] ?? chain.paths[chain.paths.length - 1];
}

/** Changes one file of the chain: reads it (or starts empty), applies `fn`, writes it back. */
export function updateConfigFile(path: string, fn: (c: ClientConfigFile) => ClientConfigFile): void {
  const current = existsSync(path) ? readConfigFile(path, true)! : undefined;
  writeConfigFile(path, fn(current ?? { apiVersion: 'v1', kind: 'Config', clusters: [], users: [], contexts: [] }));
}

/**
 * Adds (or refreshes) a context with its cluster and user and makes it current, keeping everything else
 * the files hold: what `skiff master` and `skiff up` do to the user's config. Returns the file written.
 */
export function mergeContextInto(chain: ConfigChain, entry: ContextEntry): string {
  const merged = loadConfigChain(chain);
  const dest = destinationOf(merged, chain, `contexts/${entry.name}`);
  updateConfigFile(dest, (c) => upsertContext(c, entry));
  // A cluster or user of that name in an earlier file would win the merge: refresh it there too; and an
  // earlier file that sets current-context would hide the new one: point it at the new context.
  const others = new Set(['clusters', 'users', 'current-context'].map((k) => merged.origin.get(k === 'current-context' ? k : `${k}/${entry.name}`)));
  for (const path of others)
    if (path && path !== dest)
      updateConfigFile(path, (c) => {
        const fresh = upsertContext(c, entry);
        return {
          ...c,
          ...(c['current-context'] ? { 'current-context': entry.name } : {}),
          clusters: c.clusters.map((x) => fresh.clusters.find((y) => y.name === x.name)!),
          users: c.users.map((x) => fresh.users.find((y) => y.name === x.name)!),
        };
      });
  return dest;
}

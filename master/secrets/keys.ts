/**
 * The keys that seal Secrets at rest: DATA/encryption-config.json (0600), shaped as kube-apiserver's
 * EncryptionConfiguration with one `aesgcm` provider for `secrets`:
 *
 *   {"apiVersion": "apiserver.config.k8s.io/v1", "kind": "EncryptionConfiguration",
 *    "resources": [{"resources": ["secrets"], "providers": [{"aesgcm": {"keys": [
 *       {"name": "key2", "secret": "<32 random bytes, base64>"}, {"name": "key1", "secret": "..."}]}}]}]}
 *
 * As there: the first key seals every write, every key listed opens what it sealed (a value records its key's
 * name). Rotation (`skiff secrets rotate-key`) puts a new key first, re-seals every Secret, then drops the others.
 * The file is written atomically (a temporary file renamed over it) with mode 0600; the key material never
 * reaches a log, an event or an error message.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SkiffError } from '../../protocol/index.js';

/** The file name of the encryption configuration in the data dir. */
export const encryptionConfigFile = 'encryption-config.json';

/** One AES-256 key and its name. */
export interface SealKey {
  name: string;
  key: Buffer;
}

/** Key names: what a sealed value records (`k8s:enc:aesgcm:v1:NAME:`), so no ':' in them. */
const keyName = /^[A-Za-z0-9._-]{1,64}$/;

/** The keys of DATA/encryption-config.json; the first one seals. */
export class SecretKeys {
  /**
   * Keys dropped from the file by a rotation, kept in memory only to open what watchers still have in flight (an
   * update's previous value, sealed with the old key, is delivered after the write). Gone at the next start.
   */
  private retired: SealKey[] = [];

  private constructor(
    readonly path: string,
    private list: SealKey[],
  ) {}

  /** Reads the data dir's encryption config, or creates it with one fresh key when there is none (`created`). */
  static openOrCreate(dataDir: string): { keys: SecretKeys; created: boolean } {
    const path = join(dataDir, encryptionConfigFile);
    if (existsSync(path)) return { keys: new SecretKeys(path, readConfig(path)), created: false };
    const keys = new SecretKeys(path, [{ name: 'key1', key: randomBytes(32) }]);
    keys.write();
    return { keys, created: true };
  }

  /** The key that seals. */
  get current(): SealKey {
    return this.list[0];
  }

  /** The key of a name, if the configuration has it (or had it until a rotation in this process). */
  byName(name: string): SealKey | undefined {
    return this.list.find((k) => k.name === name) ?? this.retired.find((k) => k.name === name);
  }

  /** The names of every key, the sealing one first. */
  get names(): string[] {
    return this.list.map((k) => k.name);
  }

  /** Puts a new random key first (it seals from now on; the others still open) and writes the file. Returns its name. */
  addKey(): string {
    let n = this.list.length + this.retired.length + 1;
    while (this.byName(`key${n}`)) n++;
    this.list = [{ name: `key${n}`, key: randomBytes(32) }, ...this.list];
    this.write();
    return this.list[0].name;
  }

  /** Keeps only the sealing key (every value was re-sealed with it) and writes the file. */
  dropOldKeys(): string[] {
    const dropped = this.list.slice(1);
    this.list = [this.list[0]];
    this.write();
    this.retired.push(...dropped);
    return dropped.map((k) => k.name);
  }

  private write(): void {
    const config = {
      apiVersion: 'apiserver.config.k8s.io/v1',
      kind: 'EncryptionConfiguration',
      resources: [{ resources: ['secrets'], providers: [{ aesgcm: { keys: this.list.map((k) => ({ name: k.name, secret: k.key.toString('base64') })) } }] }],
    };
    const tmp = `${this.path}.tmp`;
    writeFileSync(tmp, JSON.stringify(config, null, 2) + '\n', { mode: 0o600 });
    chmodSync(tmp, 0o600);
    renameSync(tmp, this.path);
  }
}

/** Reads and checks an encryption config; errors name the file and the field, never a key. */
function readConfig(path: string): SealKey[] {
  const bad = (why: string) => new SkiffError('SKIFF_ERR_VALIDATION', `${path}: ${why}`);
  let config: any;
  try {
    config = JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    throw bad('is not valid JSON (an EncryptionConfiguration with an aesgcm provider for secrets)');
  }
  const resource = Array.isArray(config?.resources) ? config.resources.find((r: any) => Array.isArray(r?.resources) && r.resources.includes('secrets')) : undefined;
  const keys = resource?.providers?.[0]?.aesgcm?.keys;
  if (!Array.isArray(keys) || keys.length === 0) throw bad('resources[secrets].providers[0].aesgcm.keys: must list at least one key');
  const seen = new Set<string>();
  return keys.map((k: any, i: number) => {
    const field = `aesgcm.keys[${i}]`;
    if (typeof k?.name !== 'string' || !keyName.test(k.name)) throw bad(`${field}.name: must be 1–64 letters, digits, ".", "_" or "-"`);
    if (seen.has(k.name)) throw bad(`${field}.name: "${k.name}" is listed twice`);
    seen.add(k.name);
    const key = typeof k.secret === 'string' ? Buffer.from(k.secret, 'base64') : Buffer.alloc(0);
    if (key.length !== 32) throw bad(`${field}.secret: must be 32 bytes, base64-encoded (AES-256)`);
    return { name: k.name, key };
  });
}

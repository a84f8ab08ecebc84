/**
 * Secrets sealed at rest (master/secrets): the store beneath the wrapper holds only sealed text under
 * /registry/secrets/, bound to its key; reads, lists and watches see the plain object; rotation re-seals with a
 * new key and drops the old; the key file is 0600 and checked; plain Secrets of an older store are sealed.
 */
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { encryptionConfigFile, SecretKeys } from '../../master/secrets/keys.js';
import { isSealed, keyNameOf, open } from '../../master/secrets/seal.js';
import { SealedStore } from '../../master/secrets/sealed-store.js';
import { openSqliteStore } from '../../master/store/sqlite.js';
import type { SnapshotStore, WatchEvent } from '../../master/store/types.js';
import { eventually, tempDir } from '../helpers/wait.js';

const secret = (value: string) => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db', namespace: 'default' }, data: { password: Buffer.from(value).toString('base64') } });
const key = '/registry/secrets/default/db';

describe('SealedStore', () => {
  let dir: string;
  let inner: SnapshotStore;
  let store: SealedStore;

  beforeEach(async () => {
    dir = await tempDir('skiff-seal-');
    inner = await openSqliteStore(':memory:');
    store = new SealedStore(inner, SecretKeys.openOrCreate(dir).keys);
  });
  afterEach(() => store.close());

  it('stores sealed text, bound to its key; every read opens it', async () => {
    const created = await store.create(key, secret('hunter2'));
    expect(created.value).toEqual(secret('hunter2'));
    const raw = (await inner.get<unknown>(key))!.value;
    expect(isSealed(raw)).toBe(true);
    expect(JSON.stringify(raw)).not.toContain(Buffer.from('hunter2').toString('base64'));
    expect(keyNameOf(raw as string)).toBe('key1');
    expect((await store.get(key))!.value).toEqual(secret('hunter2'));
    expect((await store.list('/registry/secrets/')).entries.map((e) => e.value)).toEqual([secret('hunter2')]);
    // Moved under another name, it does not open (the store key is authenticated data).
    expect(() => open(store.keys, raw as string, '/registry/secrets/default/other')).toThrow('does not authenticate under key "key1"');
    // Other kinds are stored as they are.
    await store.create('/registry/configmaps/default/c', { kind: 'ConfigMap', data: { a: 'b' } });
    expect((await inner.get('/registry/configmaps/default/c'))!.value).toEqual({ kind: 'ConfigMap', data: { a: 'b' } });
  });

  it('a transaction (an atomic apply) seals its Secret writes and returns them opened', async () => {
    const cm = { kind: 'ConfigMap', data: { a: 'b' } };
    const { entries } = await store.txn([
      { op: 'create', key, value: secret('in-a-txn') },
      { op: 'create', key: '/registry/configmaps/default/c', value: cm },
    ]);
    expect(entries.map((e) => e.value)).toEqual([secret('in-a-txn'), cm]);
    const raw = (await inner.get<unknown>(key))!.value;
    expect(isSealed(raw)).toBe(true);
    expect(JSON.stringify(raw)).not.toContain(Buffer.from('in-a-txn').toString('base64'));
    expect((await inner.get('/registry/configmaps/default/c'))!.value).toEqual(cm);
    await store.txn([{ op: 'update', key, value: secret('changed'), expectedModRevision: entries[0]!.modRevision }]);
    expect(isSealed((await inner.get<unknown>(key))!.value)).toBe(true);
    expect((await store.get(key))!.value).toEqual(secret('changed'));
  });

  it('watch events carry the plain object, the previous value too', async () => {
    const seen: WatchEvent[] = [];
    const w = store.watch('/registry/secrets/', await store.revision(), (e) => seen.push(e));
    await store.create(key, secret('one'));
    await store.update(key, secret('two'));
    await store.delete(key);
    await eventually(() => seen.length === 3, 'three events');
    w.close();
    expect(seen.map((e) => [e.type, e.value, e.prevValue])).toEqual([
      ['put', secret('one'), undefined],
      ['put', secret('two'), secret('one')],
      ['delete', secret('two'), secret('two')],
    ]);
  });

  it('rotation: a new key seals, every Secret is re-sealed, the history compacted, the old key dropped', async () => {
    await store.create(key, secret('hunter2'));
    await store.create('/registry/secrets/shop/api', secret('k3y'));
    const before = await store.revision();
    expect(store.keys.addKey()).toBe('key2');
    expect(await store.reseal()).toEqual({ resealed: 2, total: 2 });
    expect(store.keys.dropOldKeys()).toEqual(['key1']);
    for (const e of (await inner.list<string>('/registry/secrets/')).entries) expect(keyNameOf(e.value)).toBe('key2');
    expect((await store.get(key))!.value).toEqual(secret('hunter2'));
    // Nothing sealed with key1 is left in the change history either.
    expect(() => store.watch('/registry/secrets/', before, () => undefined)).toThrow(/compacted/);
    const file = JSON.parse(readFileSync(join(dir, encryptionConfigFile), 'utf8'));
    expect(file.resources[0].providers[0].aesgcm.keys.map((k: { name: string }) => k.name)).toEqual(['key2']);
  });

  it('seals the plain Secrets an older store holds; refuses a Secret sealed with a key the config lacks', async () => {
    await inner.create(key, secret('plain'));
    expect(await store.reseal()).toEqual({ resealed: 1, total: 1 });
    expect(isSealed((await inner.get(key))!.value)).toBe(true);
    // Another config whose key has the same name: nothing opens, and the store says so before writing anything.
    const other = new SealedStore(inner, SecretKeys.openOrCreate(await tempDir('skiff-seal-other-')).keys);
    await expect(other.reseal()).rejects.toThrow(`${key}: sealed value does not authenticate under key "key1"`);
    await expect(other.get(key)).rejects.toThrow('does not authenticate');
    // A config without that key name at all.
    const renamed = await tempDir('skiff-seal-renamed-');
    const config = { resources: [{ resources: ['secrets'], providers: [{ aesgcm: { keys: [{ name: 'other', secret: Buffer.alloc(32, 7).toString('base64') }] } }] }] };
    writeFileSync(join(renamed, encryptionConfigFile), JSON.stringify(config));
    const third = new SealedStore(inner, SecretKeys.openOrCreate(renamed).keys);
    await expect(third.reseal()).rejects.toThrow(`${key}: sealed with key "key1", which`);
  });
});

describe('the encryption config', () => {
  it('is created 0600 with one 32-byte key; read back the same', async () => {
    const dir = await tempDir('skiff-keys-');
    const { keys, created } = SecretKeys.openOrCreate(dir);
    expect(created).toBe(true);
    expect(statSync(keys.path).mode & 0o777).toBe(0o600);
    const again = SecretKeys.openOrCreate(dir);
    expect(again.created).toBe(false);
    expect(again.keys.current.key.equals(keys.current.key)).toBe(true);
  });

  it.each([
    ['not JSON', 'nope', 'is not valid JSON'],
    ['no keys', JSON.stringify({ resources: [{ resources: ['secrets'], providers: [{ aesgcm: { keys: [] } }] }] }), 'aesgcm.keys: must list at least one key'],
    ['a short key', JSON.stringify({ resources: [{ resources: ['secrets'], providers: [{ aesgcm: { keys: [{ name: 'k', secret: 'c2hvcnQ=' }] } }] }] }), 'aesgcm.keys[0].secret: must be 32 bytes'],
    ['a name with a colon', JSON.stringify({ resources: [{ resources: ['secrets'], providers: [{ aesgcm: { keys: [{ name: 'a:b', secret: Buffer.alloc(32).toString('base64') }] } }] }] }), 'aesgcm.keys[0].name'],
  ])('refuses %s, naming the field and never a key', async (_what, text, want) => {
    const dir = await tempDir('skiff-keys-');
    writeFileSync(join(dir, encryptionConfigFile), text);
    expect(() => SecretKeys.openOrCreate(dir)).toThrow(want);
  });
});

/** Runs the Store contract against SQLite (a file in a temp dir, and :memory:), plus SQLite-only checks. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { openSqliteStore, type SqliteStoreOptions } from '../../master/store/sqlite.js';
import type { Store } from '../../master/store/types.js';
import { runStoreContract } from './contract.js';

const dir = mkdtempSync(join(tmpdir(), 'skiff-store-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const paths = new Map<Store, string>();
let n = 0;
// Watch callbacks in the contract throw on purpose; keep the output quiet.
const options: SqliteStoreOptions = { onWatchError: () => {} };

async function openFile(path = join(dir, `contract-${++n}`, 'store.db')): Promise<Store> {
  const s = await openSqliteStore(path, options);
  paths.set(s, path);
  return s;
}

runStoreContract('sqlite file', () => openFile(), (closed) => openFile(paths.get(closed)));
runStoreContract('sqlite :memory:', () => openSqliteStore(':memory:', options));

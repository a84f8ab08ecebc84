// Child process of the crash tests: opens the store at argv[2] (a SQLite file path, or a store URL
// such as etcd://127.0.0.1:P/root) from the real TypeScript source, through register-ts.mjs, and
// writes as fast as it can, printing "ack <i> <batches>" only after create(i) resolved (batches:
// the SQLite store's commit count so far, 0 elsewhere). argv[3] is how many writes are in flight
// at once (default 1: one after another; more: concurrent writers, which SQLite group-commits).
// The parent kills it with SIGKILL mid-burst and checks that every acknowledged key survived.
import { openStoreAt } from '../../master/store/open.ts';
import { parseStoreUrl } from '../../master/store/location.ts';
import { openSqliteStore } from '../../master/store/sqlite.ts';

const where = process.argv[2];
const lanes = Number(process.argv[3] ?? 1);
const store = /^(sqlite|etcds?):/.test(where) ? await openStoreAt(parseStoreUrl(where)) : await openSqliteStore(where);
process.stdout.write('ready\n');
const pad = 'x'.repeat(256);
let next = 0;
async function lane() {
  for (;;) {
    const i = next++;
    await store.create(`/crash/${i}`, { i, pad });
    process.stdout.write(`ack ${i} ${store.commitStats?.().batches ?? 0}\n`);
  }
}
for (let l = 0; l < lanes; l++) void lane();

// Child process of the crash test: opens the store at argv[2] (the real TypeScript source, through
// register-ts.mjs) and writes as fast as it can, printing "ack <i>" only after create(i) resolved.
// The parent kills it with SIGKILL mid-burst and checks that every acknowledged key survived.
import { openSqliteStore } from '../../master/store/sqlite.ts';

const store = await openSqliteStore(process.argv[2]);
process.stdout.write('ready\n');
const pad = 'x'.repeat(256);
for (let i = 0; ; i++) {
  await store.create(`/crash/${i}`, { i, pad });
  process.stdout.write(`ack ${i}\n`);
}

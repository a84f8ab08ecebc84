/**
 * The offline state tools, which open a store directly (bin/skiff.js sends them here):
 *
 *   skiff backup FILE  --data-dir DIR | --store URL       read every key at one revision into FILE
 *   skiff restore FILE --data-dir DIR | --store URL       load FILE into an empty store
 *   skiff migrate --from URL --to URL                     copy a store into another, at one revision
 *
 * `skiff backup FILE` without a store flag asks the running master instead (cli/commands/backup.ts).
 * A SQLite store may be backed up while its master runs (a WAL reader sees one commit point);
 * restore and migrate write, so their target's masters must be stopped.
 */
import { parseArgs } from 'node:util';
import { SkiffError } from '../protocol/index.js';
import { backupTo, readBackup } from './store/backup.js';
import { describeLocation, etcdFlags, parseStoreUrl, sqliteAt, type StoreLocation } from './store/location.js';
import { openStoreAt } from './store/open.js';
import type { Snapshot } from './store/types.js';

/** Where the tools print. */
export interface ToolIO {
  stdout(text: string): void;
  stderr(text: string): void;
}

const storeFlags = `  --data-dir DIR              a master's data dir (its SQLite store, DIR/skiff.db)
  --store URL                 sqlite:DIR, etcd://HOST:PORT,...[/ROOT] or etcds://... (TLS)
  --etcd-cafile FILE, --etcd-certfile FILE, --etcd-keyfile FILE, --etcd-username NAME, --etcd-password PASSWORD
                              etcd TLS and auth, as for skiff master`;

/** The usage of each tool. */
export const usage = {
  backup: `Usage: skiff backup FILE (--data-dir DIR | --store URL) [flags]

Reads every key of the store at one revision into FILE (gzip of JSON lines; docs/state.md).
Without --data-dir or --store, asks the running master (admin token) instead.

${storeFlags}
`,
  restore: `Usage: skiff restore FILE (--data-dir DIR | --store URL) [--force] [--bump-revision N] [flags]

Loads a backup into an empty store (stop its masters first): the same keys and values, the store at
the backup's revision, history before it refused as compacted (clients list again).

${storeFlags}
  --force                     replace whatever the store holds
  --bump-revision N           leave the store N revisions past the backup's (as etcdutl --bump-revision),
                              so no resourceVersion handed out after the backup is ever reused
`,
  migrate: `Usage: skiff migrate --from URL --to URL [--force] [flags]

Copies every key of one store into another (stop the masters first), read at one revision, with the
target left at that revision: skiff migrate --from sqlite:/var/lib/skiff --to etcd://h1:2379,h2:2379

  --from URL, --to URL        sqlite:DIR, etcd://HOST:PORT,...[/ROOT] or etcds://...
  --force                     replace whatever the target holds
  --etcd-cafile FILE, ...     etcd TLS and auth, as for skiff master (for the etcd side)
`,
};

/** A tool's name. */
export type Tool = keyof typeof usage;

const options = {
  'data-dir': { type: 'string' },
  store: { type: 'string' },
  from: { type: 'string' },
  to: { type: 'string' },
  force: { type: 'boolean' },
  'bump-revision': { type: 'string' },
  'etcd-cafile': { type: 'string' },
  'etcd-certfile': { type: 'string' },
  'etcd-keyfile': { type: 'string' },
  'etcd-username': { type: 'string' },
  'etcd-password': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Runs `skiff backup|restore|migrate ...` (argv includes the verb); resolves with the exit code. */
export async function main(argv: string[], io: ToolIO): Promise<number> {
  const tool = argv[0] as Tool;
  try {
    if (!(tool in usage)) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `unknown state tool "${tool}"`);
    let parsed;
    try {
      parsed = parseArgs({ args: argv.slice(1), options, allowPositionals: true, strict: true });
    } catch (err) {
      throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `skiff ${tool}: ${(err as Error).message.split('\n')[0]} (see "skiff ${tool} --help")`);
    }
    const { values: v, positionals } = parsed;
    if (v.help) {
      io.stdout(usage[tool]);
      return 0;
    }
    const say = (line: string) => io.stdout(`${tool}: ${line}\n`);
    if (tool === 'migrate') await migrate(v, positionals, say);
    else if (tool === 'backup') await backup(v, positionals, say);
    else await restore(v, positionals, say);
    return 0;
  } catch (err) {
    if (!(err instanceof SkiffError)) throw err;
    io.stderr(`error: ${err.message}\n`);
    return 1;
  }
}

type Values = Record<string, string | boolean | undefined>;

async function backup(v: Values, positionals: string[], say: (line: string) => void): Promise<void> {
  const file = onlyFile('backup', positionals);
  const loc = location('backup', v);
  const store = await openStoreAt(loc, { mustExist: true, sqlite: { retainRevisions: Infinity } });
  try {
    const s = await backupTo(store, describeLocation(loc), file);
    say(`${file}: ${s.keys} keys at revision ${s.revision} from ${describeLocation(loc)}, ${s.bytes} bytes`);
  } finally {
    await store.close();
  }
}

async function restore(v: Values, positionals: string[], say: (line: string) => void): Promise<void> {
  const file = onlyFile('restore', positionals);
  const loc = location('restore', v);
  const { header, snapshot } = readBackup(file);
  say(`${file}: ${header.keys} keys at revision ${header.revision}, taken ${header.createdAt} from ${header.source}`);
  await load(snapshot, loc, v, say);
}

async function migrate(v: Values, positionals: string[], say: (line: string) => void): Promise<void> {
  if (positionals.length > 0) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `skiff migrate: unexpected argument "${positionals[0]}" (see "skiff migrate --help")`);
  if (typeof v.from !== 'string' || typeof v.to !== 'string') throw new SkiffError('SKIFF_ERR_BAD_REQUEST', 'skiff migrate: needs --from URL and --to URL');
  const flags = etcdFlags(v) ?? {};
  const from = parseStoreUrl(v.from, isEtcdUrl(v.from) ? flags : {});
  const to = parseStoreUrl(v.to, isEtcdUrl(v.to) ? flags : {});
  if (describeLocation(from) === describeLocation(to)) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', 'skiff migrate: --from and --to are the same store');
  const source = await openStoreAt(from, { mustExist: true, sqlite: { retainRevisions: Infinity } });
  let snapshot: Snapshot;
  try {
    snapshot = await source.snapshot();
  } finally {
    await source.close();
  }
  say(`read ${snapshot.entries.length} keys at revision ${snapshot.revision} from ${describeLocation(from)}`);
  await load(snapshot, to, v, say);
}

// Writes a snapshot into the store at `loc`, with progress lines.
async function load(snapshot: Snapshot, loc: StoreLocation, v: Values, say: (line: string) => void): Promise<void> {
  const bump = v['bump-revision'] === undefined ? 0 : Number(v['bump-revision']);
  if (!Number.isSafeInteger(bump) || bump < 0) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `--bump-revision: must be a whole number ≥ 0, got "${String(v['bump-revision'])}"`);
  const target = await openStoreAt(loc);
  let lastReport = 0;
  try {
    const { revision } = await target.restore(snapshot, {
      force: v.force === true,
      bumpRevision: bump,
      onProgress: (written, total) => {
        // A line per tenth, not per batch.
        if (written < total && written - lastReport < Math.max(1, total / 10)) return;
        lastReport = written;
        say(`wrote ${written}/${total} keys to ${describeLocation(loc)}`);
      },
    });
    say(`done: ${describeLocation(loc)} holds ${snapshot.entries.length} keys at revision ${revision}`);
  } finally {
    await target.close();
  }
}

function location(tool: Tool, v: Values): StoreLocation {
  const flags = etcdFlags(v) ?? {};
  if (typeof v['data-dir'] === 'string' && typeof v.store === 'string') throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `skiff ${tool}: give --data-dir or --store, not both`);
  if (typeof v['data-dir'] === 'string') {
    if (etcdFlags(v)) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `skiff ${tool}: the --etcd-* flags need --store etcd://... or etcds://...`);
    return sqliteAt(v['data-dir']);
  }
  if (typeof v.store === 'string') return parseStoreUrl(v.store, flags);
  throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `skiff ${tool}: needs --data-dir DIR or --store URL (see "skiff ${tool} --help")`);
}

function onlyFile(tool: Tool, positionals: string[]): string {
  if (positionals.length !== 1) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `skiff ${tool}: needs exactly one FILE, got ${positionals.length} (see "skiff ${tool} --help")`);
  return positionals[0]!;
}

// The etcd flags apply to the etcd side of a migration.
function isEtcdUrl(url: string): boolean {
  return /^etcds?:/.test(url);
}

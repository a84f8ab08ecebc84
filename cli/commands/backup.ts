/**
 * `skiff backup FILE`: asks the running master (admin access) for a backup of its whole store, read
 * at one revision, and writes it to FILE (atomically, mode 0600: it holds Secrets). With
 * `--data-dir DIR` or `--store URL` the backup is taken from the store directly instead
 * (bin/skiff.js sends those to master/state-tools.ts, which can open a store).
 */
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { SkiffError } from '../../protocol/index.js';
import type { Command } from '../args.js';

/** The backup verb. */
export const backup: Command = {
  summary: 'back the cluster state up into a file (restore with "skiff restore")',
  usage: `Usage:
  skiff backup FILE                                   from the running master (needs admin access)
  skiff backup FILE --data-dir DIR | --store URL      from the store directly (see "skiff restore --help")

The file is gzip of JSON lines: a header {format, version, revision, createdAt, store, source, keys},
one line per key with its revisions, and an end line (docs/state.md). Every key is read at one revision.
`,
  options: {},
  async run(ctx, _values, positionals) {
    if (positionals.length !== 1) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `skiff backup: needs exactly one FILE, got ${positionals.length}`);
    const file = positionals[0]!;
    const api = await ctx.api();
    const chunks: Buffer[] = [];
    let summary: { revision: number; keys: number; bytes: number } | undefined;
    await api.stream('backup', {}, (res) => {
      if (typeof res.chunk === 'string') chunks.push(Buffer.from(res.chunk, 'base64'));
      if (res.result) summary = res.result as typeof summary;
    }, ctx.io.signal);
    const bytes = Buffer.concat(chunks);
    if (!summary || bytes.length !== summary.bytes) throw new SkiffError('SKIFF_ERR_UNAVAILABLE', `skiff backup: the master's answer ended early (${bytes.length} of ${summary?.bytes ?? '?'} bytes); nothing written`);
    const tmp = `${file}.tmp-${process.pid}`;
    try {
      writeFileSync(tmp, bytes, { mode: 0o600 });
      renameSync(tmp, file);
    } catch (err) {
      rmSync(tmp, { force: true });
      throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `skiff backup: ${file}: ${(err as Error).message}`);
    }
    ctx.io.stdout(`backup: ${file}: ${summary.keys} keys at revision ${summary.revision}, ${summary.bytes} bytes\n`);
    return 0;
  },
};

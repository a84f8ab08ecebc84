/**
 * Reading `-f FILE|DIR|-` for apply and delete: files as given, a directory's *.yaml, *.yml and *.json
 * in name order, `-` from stdin. Each source is parsed locally first so that a typo is reported with
 * its file and line before anything is sent.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseManifests, SkiffError } from '../protocol/index.js';
import type { CliIO } from './types.js';

/** One manifest source: its name for messages, its text and its parsed documents. */
export interface ManifestSource {
  source: string;
  text: string;
  documents: unknown[];
}

const manifestFile = /\.(ya?ml|json)$/i;

/** Reads and parses every `-f` argument; throws SKIFF_ERR_PARSE naming the file and line. */
export async function readManifests(paths: string[], io: CliIO): Promise<ManifestSource[]> {
  if (paths.length === 0) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', 'must give -f FILE, -f DIR or -f - (stdin)');
  const out: ManifestSource[] = [];
  for (const p of paths) {
    for (const { source, text } of await readPath(p, io)) out.push({ source, text, documents: parseManifests(text, source) });
  }
  return out;
}

async function readPath(p: string, io: CliIO): Promise<{ source: string; text: string }[]> {
  if (p === '-') return [{ source: 'stdin', text: await io.readStdin() }];
  let isDir: boolean;
  try {
    isDir = statSync(p).isDirectory();
  } catch (err) {
    throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `-f ${p}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (err as Error).message}`);
  }
  if (!isDir) return [{ source: p, text: readFileSync(p, 'utf8') }];
  const files = readdirSync(p).filter((f) => manifestFile.test(f)).sort();
  if (files.length === 0) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `-f ${p}: no *.yaml, *.yml or *.json files in the directory`);
  return files.map((f) => ({ source: join(p, f), text: readFileSync(join(p, f), 'utf8') }));
}

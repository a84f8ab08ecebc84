/**
 * `skiff diff -f FILE|DIR|-`, as kubectl diff: for every object, the live object against what the master
 * would store if it were applied (a server dry run of the same apply `skiff apply` sends, last-applied
 * annotation included), both as YAML without status, managedFields and resourceVersion, as a unified
 * diff with kubectl's file names (`LIVE-…/apps.v1.Deployment.default.web`). Exit 0: no differences,
 * 1: differences, 2: an error (kubectl's codes). SKIFF_EXTERNAL_DIFF (as KUBECTL_EXTERNAL_DIFF) names a
 * program run on the two directories instead.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTwoFilesPatch } from 'diff';
import { SkiffError, kindOf, type ApplyResult, type KObject } from '../../protocol/index.js';
import { namespaceOption, str, strs, type Command } from '../args.js';
import { toYaml } from '../format/output.js';
import { readManifests } from '../manifests.js';
import { defaultNamespace } from '../target.js';
import type { Api, CommandContext } from '../types.js';
import { withLastApplied } from './apply.js';

/** One object's two sides. */
interface Pair {
  file: string;
  live: string;
  merged: string;
}

/** The diff verb. */
export const diff: Command = {
  summary: 'show what applying manifests would change (exit 1 when it would)',
  usage: `Usage:
  skiff diff -f FILE|DIR|- [-n NS]

Prints a unified diff of each live object against the object as the master would store it after
"skiff apply -f" of the same files (a server-side dry run: validated, defaulted, nothing stored).
Status, managedFields and resourceVersion are left out, as kubectl does.

Exit status: 0 no differences, 1 differences found, 2 (or more) an error.
Environment: SKIFF_EXTERNAL_DIFF="PROGRAM [ARGS]" runs PROGRAM LIVE_DIR MERGED_DIR instead (e.g. "colordiff -N -u").

Flags:
  -f, --filename PATH      a file, a directory (its *.yaml, *.yml, *.json) or - for stdin; repeatable
  -n, --namespace NS       namespace for objects that name none (default: the context's, else "default")
`,
  options: { ...namespaceOption, filename: { type: 'string', short: 'f', multiple: true } },
  async run(ctx, values, positionals) {
    try {
      if (positionals.length > 0) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `skiff diff: unexpected argument "${positionals[0]}" (manifests are given with -f)`);
      const sources = await readManifests(strs(values, 'filename'), ctx.io);
      const namespace = str(values, 'namespace') ?? defaultNamespace;
      const api = await ctx.api();
      const pairs: Pair[] = [];
      for (const s of sources) for (const doc of s.documents) pairs.push(await pairOf(api, withLastApplied(doc) as KObject, namespace));
      const external = ctx.io.env.SKIFF_EXTERNAL_DIFF;
      return external ? runExternal(ctx, external, pairs) : printDiffs(ctx, pairs);
    } catch (err) {
      if (!(err instanceof SkiffError)) throw err;
      ctx.io.stderr(`error: ${err.message}\n`);
      return 2;
    }
  },
};

/** kubectl's file name of an object: `apps.v1.Deployment.default.web`, `v1.Namespace.shop`. */
function fileName(o: KObject): string {
  return [...o.apiVersion.split('/'), o.kind, ...(o.metadata.namespace ? [o.metadata.namespace] : []), o.metadata.name].join('.');
}

/** What both sides leave out: status, managedFields, resourceVersion; keys sorted, as kubectl's YAML has them. */
function comparable(o: KObject | undefined): string {
  if (!o) return '';
  const { status: _status, ...rest } = o;
  const { managedFields: _m, resourceVersion: _rv, ...metadata } = rest.metadata as KObject['metadata'] & { managedFields?: unknown };
  return toYaml(sorted({ ...rest, metadata }));
}

function sorted(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sorted);
  if (v === null || typeof v !== 'object') return v;
  return Object.fromEntries(
    Object.keys(v)
      .sort()
      .map((k) => [k, sorted((v as Record<string, unknown>)[k])]),
  );
}

async function pairOf(api: Api, doc: KObject, namespace: string): Promise<Pair> {
  const kind = kindOf(String(doc.kind));
  const ns = kind.namespaced ? (doc.metadata?.namespace ?? namespace) : undefined;
  const live = await api.request<KObject>('get', { kind: kind.kind, name: doc.metadata?.name, ...(ns ? { namespace: ns } : {}) }).catch((err) => {
    if (err instanceof SkiffError && err.code === 'SKIFF_ERR_NOT_FOUND') return undefined;
    throw err;
  });
  const res = await api.request<{ results: ApplyResult[] }>('apply', { objects: [doc], namespace, dryRun: true });
  const r = res.results[0];
  if (!r || r.error || !r.object) throw new SkiffError(r?.error?.code ?? 'SKIFF_ERR_INTERNAL', r?.error?.message ?? `${kind.kind}/${doc.metadata?.name}: no dry-run result`);
  return { file: fileName(r.object), live: comparable(live), merged: comparable(r.object) };
}

/** GNU diff's time stamp: `2026-01-10 12:00:00.000000000 +0000`. */
function stamp(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').replace(/\.(\d{3})Z$/, '.$1000000 +0000');
}

function printDiffs(ctx: CommandContext, pairs: Pair[]): number {
  const id = Math.floor(ctx.now() % 1e9);
  let differ = false;
  for (const p of pairs) {
    if (p.live === p.merged) continue;
    differ = true;
    const a = `/tmp/LIVE-${id}/${p.file}`;
    const b = `/tmp/MERGED-${id}/${p.file}`;
    const patch = createTwoFilesPatch(a, b, p.live, p.merged, stamp(ctx.now()), stamp(ctx.now()), { context: 3 })
      .replace(/^=+\n/, '')
      // GNU diff writes a hunk of one line as `-5`, not `-5,1`.
      .replace(/^@@ -(\d+),1 /gm, '@@ -$1 ')
      .replace(/^(@@ -\S+ \+\d+),1 @@/gm, '$1 @@');
    ctx.io.stdout(`diff -u -N ${a} ${b}\n${patch}`);
  }
  return differ ? 1 : 0;
}

/** Writes the two sides into LIVE-* and MERGED-* directories and runs the user's program on them. */
function runExternal(ctx: CommandContext, command: string, pairs: Pair[]): number {
  const root = mkdtempSync(join(tmpdir(), 'skiff-diff-'));
  try {
    const live = join(root, 'LIVE');
    const merged = join(root, 'MERGED');
    mkdirSync(live);
    mkdirSync(merged);
    for (const p of pairs) {
      writeFileSync(join(live, p.file), p.live);
      writeFileSync(join(merged, p.file), p.merged);
    }
    const [prog, ...args] = command.trim().split(/\s+/);
    const r = spawnSync(prog, [...args, live, merged], { encoding: 'utf8' });
    if (r.error) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `SKIFF_EXTERNAL_DIFF: cannot run ${prog}: ${r.error.message}`);
    ctx.io.stdout(r.stdout);
    if (r.stderr) ctx.io.stderr(r.stderr);
    return r.status === 0 || r.status === 1 ? r.status : 2;
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

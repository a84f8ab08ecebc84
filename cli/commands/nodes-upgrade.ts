/**
 * `skiff nodes upgrade [NODE... | -l SELECTOR | --all] --bundle FILE [--max-unavailable N] [--timeout DUR]
 * [--trial DUR]`: a fleet upgrade of the agents (docs/edge.md). The master stores the bundle and sends it to
 * each node; progress prints as `kubectl rollout status` does, a line per step and node. Exit 0 when every node
 * runs the bundle's version (or already did), 1 otherwise (a rollback, a failure, nodes left untouched).
 */
import { readFileSync } from 'node:fs';
import { parseDuration, SkiffError } from '../../protocol/index.js';
import { parseBundleHeader } from '../../protocol/bundle.js';
import { maxBundleBytes, type UpgradeProgress } from '../../protocol/upgrade.js';
import { intFlag, str, type Command } from '../args.js';

/** One progress line: `node n1: downloading 40%`, `node n1: upgraded to v0.2.0`. */
export function progressLine(p: UpgradeProgress): string {
  switch (p.phase) {
    case 'Pending':
      return `node ${p.node}: not upgraded (the rollout stopped before it)`;
    case 'Downloading':
      return `node ${p.node}: downloading ${p.percent ?? 0}%`;
    case 'Restarting':
      return `node ${p.node}: restarting into v${p.version}`;
    case 'Upgraded':
      return `node ${p.node}: upgraded to v${p.version}`;
    case 'Unchanged':
      return `node ${p.node}: already at v${p.version}`;
    case 'RolledBack':
      return `node ${p.node}: rolled back, still ${p.version ? `v${p.version}` : 'at its old version'}: ${p.message ?? ''}`;
    case 'Failed':
      return `node ${p.node}: failed: ${p.message ?? ''}`;
  }
}

function seconds(flag: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const ms = parseDuration(v);
  if (!ms) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `--${flag}: must be a duration like 90s or 5m, got "${v}"`);
  return Math.ceil(ms / 1000);
}

/** Reads and checks the bundle before anything is sent: a wrong file is refused here, by name. */
function readBundle(file: string | undefined): Buffer {
  if (!file) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', 'skiff nodes upgrade: --bundle FILE is required (npm run build:agent writes dist/skiff-agent.mjs)');
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `--bundle: cannot read ${file}: ${(err as Error).message}`);
  }
  if (bytes.length > maxBundleBytes) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `--bundle: ${file} is ${bytes.length} bytes, more than the ${maxBundleBytes} a master takes`);
  try {
    parseBundleHeader(bytes);
  } catch (err) {
    throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `--bundle: ${file}: ${(err as Error).message}`);
  }
  return bytes;
}

/** The nodes verb (one subcommand: upgrade). */
export const nodes: Command = {
  summary: 'upgrade the agents of nodes to a new bundle, a few at a time (skiff nodes upgrade --help)',
  usage: `Usage:
  skiff nodes upgrade NODE... --bundle FILE [flags]
  skiff nodes upgrade -l SELECTOR --bundle FILE [flags]
  skiff nodes upgrade --all --bundle FILE [flags]

Flags:
  --bundle FILE            the agent bundle (npm run build:agent: dist/skiff-agent.mjs)
  -l, --selector SEL       the nodes whose labels match, e.g. kubernetes.io/arch=arm64
  --all                    every node
  --max-unavailable N      how many nodes may be upgrading at once (default 1)
  --timeout DUR            how long one node may take to report the new version (default 5m)
  --trial DUR              how long a node's new agent has to rejoin before it rolls back (default 2m)
`,
  options: { bundle: { type: 'string' }, selector: { type: 'string', short: 'l' }, all: { type: 'boolean' }, 'max-unavailable': { type: 'string' }, timeout: { type: 'string' }, trial: { type: 'string' } },
  async run(ctx, values, positionals) {
    const [sub, ...names] = positionals;
    if (sub !== 'upgrade') throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `skiff nodes: unknown subcommand ${sub === undefined ? '(none)' : `"${sub}"`}; subcommands: upgrade`);
    const selector = str(values, 'selector');
    const ways = [names.length > 0 && 'NODE names', selector !== undefined && '--selector', values.all === true && '--all'].filter(Boolean);
    if (ways.length !== 1) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `skiff nodes upgrade: name the nodes one way: NODE..., -l SELECTOR or --all${ways.length ? ` (got ${ways.join(' and ')})` : ''}`);
    const maxUnavailable = intFlag(values, 'max-unavailable');
    if (maxUnavailable === 0) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', '--max-unavailable: must be at least 1');
    const params = {
      bundle: readBundle(str(values, 'bundle')),
      ...(names.length ? { nodes: names.map((n) => n.replace(/^(nodes?|no)\//, '')) } : selector !== undefined ? { selector } : { all: true }),
      ...(maxUnavailable !== undefined ? { maxUnavailable } : {}),
      ...(values.timeout !== undefined ? { timeoutSeconds: seconds('timeout', str(values, 'timeout')) } : {}),
      ...(values.trial !== undefined ? { trialSeconds: seconds('trial', str(values, 'trial')) } : {}),
    };
    const api = await ctx.api();
    let result: Record<string, UpgradeProgress> = {};
    await api.stream('upgrade', params, (res) => {
      if (res.progress) ctx.io.stdout(progressLine(res.progress) + '\n');
      const r = res.result as { nodes?: Record<string, UpgradeProgress> } | undefined;
      if (r?.nodes) result = r.nodes;
    });
    const left = Object.values(result).filter((p) => p.phase === 'Pending');
    for (const p of left) ctx.io.stdout(progressLine(p) + '\n');
    const bad = Object.values(result).filter((p) => p.phase !== 'Upgraded' && p.phase !== 'Unchanged');
    if (bad.length) ctx.io.stderr(`error: ${bad.length} of ${Object.keys(result).length} node(s) not upgraded\n`);
    return bad.length ? 1 : 0;
  },
};

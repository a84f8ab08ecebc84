/**
 * A fleet upgrade (`skiff nodes upgrade`): the bundle goes to each target node in chunks over that node's rpc
 * topics (protocol/upgrade.ts), at most `maxUnavailable` nodes at a time, and a node counts as upgraded once its
 * agent reports the new version and `AgentUpgrade=True` (its candidate rejoined and committed, docs/edge.md).
 * The first node that does not upgrade (rolled back, failed, timed out) stops the rollout: the nodes not yet
 * started keep their version, as a Deployment's rollout stops at a broken revision.
 */
import { SkiffError, type Condition, type Logger, type Node } from '../../protocol/index.js';
import { UPGRADE_CHUNK_BYTES, type UpgradeProgress } from '../../protocol/upgrade.js';
import type { EventRecorder } from '../events.js';
import type { Informers } from '../informer.js';
import type { AgentRpc } from '../nodes/rpc.js';
import type { Objects } from '../objects.js';
import type { StoredBundle } from './store.js';

/** The annotation that records the last upgrade the master ran on a node (JSON: version, sha256, phase, message, at). */
export const UPGRADE_ANNOTATION = 'skiff.io/agent-upgrade';

/** What a rollout needs from the master. */
export interface RolloutDeps {
  rpc: Pick<AgentRpc, 'call'>;
  informers: Informers;
  objects: Objects;
  events: EventRecorder;
  log: Logger;
}

/** How a rollout runs. */
export interface RolloutOptions {
  nodes: string[];
  maxUnavailable: number;
  /** Per node, from the first chunk until it reports the new version. */
  timeoutMs: number;
  trialSeconds: number;
  onProgress(p: UpgradeProgress): void;
  /** True once the client went away: no further node is started. */
  cancelled(): boolean;
}

/** The outcome per node. */
export type RolloutResult = Record<string, UpgradeProgress>;

const agentVersionOf = (n: Node | undefined) => n?.status?.nodeInfo?.agentVersion;
const conditionOf = (n: Node | undefined, type: string): Condition | undefined => n?.status?.conditions?.find((c) => c.type === type);

/** Runs the rollout; resolves with every node's last progress (Pending for those never started). */
export async function upgradeNodes(deps: RolloutDeps, bundle: StoredBundle, o: RolloutOptions): Promise<RolloutResult> {
  const result: RolloutResult = {};
  const queue = [...o.nodes];
  for (const node of queue) result[node] = { node, phase: 'Pending', version: bundle.version };
  const report = (p: UpgradeProgress) => {
    result[p.node] = p;
    o.onProgress(p);
  };
  let stop = false;
  const worker = async () => {
    for (let node = queue.shift(); node !== undefined && !stop && !o.cancelled(); node = queue.shift()) {
      const last = await upgradeOne(deps, bundle, node, o, report).catch((err: Error) => ({ node, phase: 'Failed' as const, version: bundle.version, message: err.message }));
      report(last);
      await annotate(deps, node, bundle, last);
      if (last.phase !== 'Upgraded' && last.phase !== 'Unchanged') stop = true;
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(o.maxUnavailable, o.nodes.length)) }, worker));
  return result;
}

/** One node: download, commit, wait for the new version (or the rollback). */
async function upgradeOne(deps: RolloutDeps, bundle: StoredBundle, node: string, o: RolloutOptions, report: (p: UpgradeProgress) => void): Promise<UpgradeProgress> {
  const n = deps.informers.get('Node', undefined, node);
  const base = { node, version: bundle.version };
  if (!n) return { ...base, phase: 'Failed', message: `node "${node}" not found` };
  if (agentVersionOf(n) === bundle.version) return { ...base, phase: 'Unchanged', message: `already at ${bundle.version}` };
  if (conditionOf(n, 'Ready')?.status !== 'True') return { ...base, phase: 'Failed', message: `node "${node}" is not Ready` };
  const deadline = Date.now() + o.timeoutMs;
  const left = () => Math.max(1000, deadline - Date.now());
  const call = (params: Record<string, unknown>, timeoutMs = 30_000) => deps.rpc.call(node, 'upgrade', params, { timeoutMs: Math.min(timeoutMs, left()) }).done;
  const chunks = Math.ceil(bundle.bytes.length / UPGRADE_CHUNK_BYTES);
  deps.log.info('upgrading a node', { node, version: bundle.version, from: agentVersionOf(n), chunks });
  await annotate(deps, node, bundle, { ...base, phase: 'Downloading' });
  await call({ step: 'begin', version: bundle.version, sha256: bundle.sha256, size: bundle.bytes.length, chunks });
  report({ ...base, phase: 'Downloading', percent: 0 });
  let shown = 0;
  for (let i = 0; i < chunks; i++) {
    await call({ step: 'chunk', sha256: bundle.sha256, index: i, data: bundle.bytes.subarray(i * UPGRADE_CHUNK_BYTES, (i + 1) * UPGRADE_CHUNK_BYTES) });
    const percent = Math.floor(((i + 1) * 100) / chunks);
    // Every 20 % (and the end): a progress line per chunk would be noise on a big fleet.
    if (percent - shown >= 20 || i === chunks - 1) report({ ...base, phase: 'Downloading', percent: (shown = percent) });
  }
  const since = Date.now();
  await call({ step: 'commit', sha256: bundle.sha256, trialSeconds: o.trialSeconds });
  report({ ...base, phase: 'Restarting' });
  return waitForVersion(deps, node, bundle.version, since, deadline);
}

/** Resolves once the node reports `version` committed, or rolled back, or the deadline passes. */
function waitForVersion(deps: RolloutDeps, node: string, version: string, since: number, deadline: number): Promise<UpgradeProgress> {
  return new Promise((resolve) => {
    const check = (): UpgradeProgress | undefined => {
      const n = deps.informers.get('Node', undefined, node);
      const up = conditionOf(n, 'AgentUpgrade');
      const fresh = up?.lastTransitionTime && Date.parse(up.lastTransitionTime) >= since - 1000;
      if (fresh && up.status === 'False' && up.reason === 'RolledBack') return { node, version: agentVersionOf(n), phase: 'RolledBack', message: up.message };
      if (agentVersionOf(n) === version && up?.status === 'True' && conditionOf(n, 'Ready')?.status === 'True') return { node, version, phase: 'Upgraded' };
      return undefined;
    };
    const done = (p: UpgradeProgress) => {
      clearTimeout(timer);
      deps.informers.off('Node', onChange);
      resolve(p);
    };
    const onChange = (obj: unknown) => {
      if ((obj as Node | undefined)?.metadata.name !== node) return;
      const p = check();
      if (p) done(p);
    };
    const timer = setTimeout(() => done({ node, version: agentVersionOf(deps.informers.get('Node', undefined, node)), phase: 'Failed', message: `did not report skiff-agent ${version} within the timeout` }), Math.max(0, deadline - Date.now()));
    deps.informers.on('Node', onChange);
    const now = check();
    if (now) done(now);
  });
}

/** Records the node's upgrade state in its annotation (a few writes per node per rollout) and an event. */
async function annotate(deps: RolloutDeps, node: string, bundle: StoredBundle, p: UpgradeProgress): Promise<void> {
  const value = JSON.stringify({ version: bundle.version, sha256: bundle.sha256, phase: p.phase, ...(p.message ? { message: p.message } : {}), at: new Date().toISOString() });
  try {
    await deps.objects.mutate('Node', undefined, node, (cur) => {
      cur.metadata.annotations = { ...(cur.metadata.annotations ?? {}), [UPGRADE_ANNOTATION]: value };
      return cur;
    });
  } catch (err) {
    if (!(err instanceof SkiffError && err.code === 'SKIFF_ERR_NOT_FOUND')) deps.log.warn('cannot annotate a node', { node, err });
  }
  if (p.phase !== 'Downloading') deps.events.object('Node', undefined, node, p.phase === 'Upgraded' || p.phase === 'Unchanged' ? 'Normal' : 'Warning', `Agent${p.phase}`, `skiff-agent ${bundle.version}: ${p.phase}${p.message ? `: ${p.message}` : ''}`);
}

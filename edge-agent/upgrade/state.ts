/**
 * The upgrade state of one agent bundle, kept beside it (docs/edge.md, "Fleet upgrade"):
 *
 *   /usr/local/lib/skiff/skiff-agent.mjs           the bundle systemd runs (the last one known good)
 *   /usr/local/lib/skiff/skiff-agent.next.mjs      a candidate on trial (written by the upgrade RPC)
 *   /usr/local/lib/skiff/skiff-agent.prev.mjs      the bundle before the last upgrade (kept for a manual rollback)
 *   /usr/local/lib/skiff/skiff-agent.upgrade.json  this state: trial, upgraded or rolledBack
 *
 * Written only when an upgrade happens, atomically (tmp + fsync + rename): nothing here touches the disk otherwise.
 */
import fs from 'node:fs';
import type { Condition } from '../../protocol/types.js';
import { writeFileAtomic } from '../fsutil.js';

/** The file names around a bundle `…/NAME.mjs`. */
export function upgradePaths(bundle: string) {
  const base = bundle.replace(/\.mjs$/, '');
  return { bundle, next: `${base}.next.mjs`, prev: `${base}.prev.mjs`, state: `${base}.upgrade.json` };
}

/** The paths of one bundle's upgrade files. */
export type UpgradePaths = ReturnType<typeof upgradePaths>;

/** Where an upgrade stands. */
export type UpgradeState =
  /** A candidate waits to prove itself: it runs inside the known-good bundle's process until it rejoins. */
  | { phase: 'trial'; from: string; to: string; sha256: string; attempts: number; trialMs: number; at: string }
  | { phase: 'upgraded'; from: string; to: string; sha256: string; at: string }
  | { phase: 'rolledBack'; from: string; to: string; sha256: string; at: string; reason: string };

/** How many starts a candidate gets before it is rolled back (a crash at start, a power cut during the trial). */
export const MAX_TRIAL_STARTS = 2;

/** The state file's content, or undefined when there is none (or it cannot be read: an upgrade then starts over). */
export function readUpgradeState(p: UpgradePaths): UpgradeState | undefined {
  try {
    const s = JSON.parse(fs.readFileSync(p.state, 'utf8')) as UpgradeState;
    return s && typeof s === 'object' && typeof s.phase === 'string' ? s : undefined;
  } catch {
    return undefined;
  }
}

/** Writes the state atomically. */
export async function writeUpgradeState(p: UpgradePaths, s: UpgradeState): Promise<void> {
  await writeFileAtomic(p.state, JSON.stringify(s) + '\n', 0o600);
}

/** The trial failed: the candidate goes, the known-good bundle stays where it always was. */
export async function rollBack(p: UpgradePaths, s: Extract<UpgradeState, { phase: 'trial' }>, reason: string): Promise<void> {
  await fs.promises.rm(p.next, { force: true });
  await writeUpgradeState(p, { phase: 'rolledBack', from: s.from, to: s.to, sha256: s.sha256, at: new Date().toISOString(), reason });
}

/**
 * The candidate rejoined: it becomes the bundle. The old one is hard-linked to `.prev` first, then the candidate is
 * renamed over the bundle (atomic: at every instant the bundle path holds a whole, runnable file).
 */
export async function promote(p: UpgradePaths, s: Extract<UpgradeState, { phase: 'trial' }>): Promise<void> {
  await fs.promises.rm(p.prev, { force: true });
  await fs.promises.link(p.bundle, p.prev).catch(() => fs.promises.copyFile(p.bundle, p.prev));
  await fs.promises.rename(p.next, p.bundle);
  await writeUpgradeState(p, { phase: 'upgraded', from: s.from, to: s.to, sha256: s.sha256, at: new Date().toISOString() });
}

/** The node condition `AgentUpgrade` that reports the last upgrade (none before the first). */
export function upgradeCondition(s: UpgradeState | undefined): Condition | undefined {
  if (!s) return undefined;
  const t = s.at;
  switch (s.phase) {
    case 'trial':
      return { type: 'AgentUpgrade', status: 'Unknown', reason: 'Trial', message: `skiff-agent ${s.to} on trial (start ${s.attempts} of ${MAX_TRIAL_STARTS}); ${s.from} is kept`, lastTransitionTime: t };
    case 'upgraded':
      return { type: 'AgentUpgrade', status: 'True', reason: 'Upgraded', message: `upgraded from ${s.from} to ${s.to}`, lastTransitionTime: t };
    case 'rolledBack':
      return { type: 'AgentUpgrade', status: 'False', reason: 'RolledBack', message: `${s.to} rolled back, running ${s.from}: ${s.reason}`.slice(0, 1024), lastTransitionTime: t };
  }
}

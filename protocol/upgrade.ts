/**
 * The fleet upgrade's wire shapes (docs/edge.md): the API verb `upgrade` (client → master) and the agent RPC
 * `upgrade` (master → agent), whose steps carry the bundle to one node in chunks over its own rpc topics —
 * which only that node may read (master/broker/acl.ts), so no topic or ACL rule is added for it.
 */
import { maxRequestBytes } from './limits.js';

/** The largest bundle the master takes: what one API request can carry, less room for the envelope. */
export const maxBundleBytes = maxRequestBytes - 64 * 1024;

/** Bytes per `chunk` step: 64 KiB (one QoS 1 message each, ≈ 65 ms a round trip on an emulated Pi). */
export const UPGRADE_CHUNK_BYTES = 64 * 1024;

/** How long a candidate has to rejoin before its launching bundle rolls it back, unless the request says. */
export const DEFAULT_TRIAL_SECONDS = 120;

/** The steps of the agent RPC `upgrade`, each answered before the next is sent. */
export type UpgradeStep =
  /** A download begins (a begin for another sha256 drops the one before): answered `{have: number}` (chunks held). */
  | { step: 'begin'; version: string; sha256: string; size: number; chunks: number }
  /** Chunk `index` (0-based) of the bundle `sha256`; answered `{received: bytes}`. */
  | { step: 'chunk'; sha256: string; index: number; data: Uint8Array }
  /** All chunks sent: verify the digest, write the candidate, restart into it (answered `{restarting: true}` first). */
  | { step: 'commit'; sha256: string; trialSeconds?: number };

/** The API verb `upgrade` (admin access): the bundle and which nodes to upgrade. */
export interface UpgradeRequest {
  /** The bundle file's bytes (at most maxBundleBytes). */
  bundle: Uint8Array;
  /** Node names; or `selector`; or `all`. */
  nodes?: string[];
  selector?: string;
  all?: boolean;
  /** How many nodes may be upgrading (their agent away) at once; default 1. */
  maxUnavailable?: number;
  /** How long one node may take from the first chunk until it reports the new version; default 300 s. */
  timeoutSeconds?: number;
  /** The trial deadline given to each agent; default DEFAULT_TRIAL_SECONDS. */
  trialSeconds?: number;
}

/** One progress line of the `upgrade` stream (`{progress}` parts), the CLI prints them as kubectl's rollout does. */
export interface UpgradeProgress {
  node: string;
  phase: 'Pending' | 'Downloading' | 'Restarting' | 'Upgraded' | 'Unchanged' | 'RolledBack' | 'Failed';
  /** 0–100 while downloading. */
  percent?: number;
  version?: string;
  message?: string;
}

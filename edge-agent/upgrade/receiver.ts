/**
 * The agent's side of a fleet upgrade: the RPC `upgrade` (protocol/upgrade.ts). Chunks are kept in memory (a
 * bundle is at most maxBundleBytes) so the SD card sees one write, of the verified file. `commit` checks the
 * digest and the bundle's own header, writes the candidate beside the bundle (tmp + fsync + rename), records the
 * trial (upgrade/state.ts) and asks the agent to restart; the launching bundle then runs the candidate on trial.
 */
import { createHash } from 'node:crypto';
import { SkiffError } from '../../protocol/errors.js';
import { AGENT_VERSION_PATTERN, parseBundleHeader } from '../../protocol/bundle.js';
import { DEFAULT_TRIAL_SECONDS, maxBundleBytes, UPGRADE_CHUNK_BYTES } from '../../protocol/upgrade.js';
import { writeFileAtomic } from '../fsutil.js';
import type { Logger } from '../log.js';
import { AGENT_VERSION } from '../version.js';
import { readUpgradeState, upgradePaths, writeUpgradeState } from './state.js';

const SHA256 = /^[0-9a-f]{64}$/;

interface Download {
  version: string;
  sha256: string;
  size: number;
  parts: (Buffer | undefined)[];
}

function bad(field: string, rule: string): never {
  throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `upgrade: ${field}: ${rule}`);
}

function int(v: unknown, field: string, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) bad(field, `must be an integer in [${min}, ${max}], got ${JSON.stringify(v)}`);
  return v;
}

/** Receives upgrades for the bundle at `bundle` (undefined: the agent runs from a checkout and refuses). */
export class UpgradeReceiver {
  private download?: Download;

  constructor(
    private readonly bundle: string | undefined,
    /** Called after the commit's answer is sent: the agent stops and restarts into the bundle. */
    private readonly restart: () => void,
    private readonly log: Logger,
  ) {}

  /** Serves one step; returns the answer's result. */
  async handle(params: Record<string, unknown>): Promise<unknown> {
    if (!this.bundle) throw new SkiffError('SKIFF_ERR_UNAVAILABLE', 'this agent does not run from a bundle (dist/skiff-agent.mjs) but from a checkout: upgrade it there (git pull, npm run build)');
    if (!this.bundle.endsWith('.mjs')) throw new SkiffError('SKIFF_ERR_UNAVAILABLE', `this agent's bundle ${this.bundle} does not end in .mjs: it cannot be upgraded in place`);
    switch (params.step) {
      case 'begin':
        return this.begin(params);
      case 'chunk':
        return this.chunk(params);
      case 'commit':
        return this.commit(params);
      default:
        bad('step', `must be begin, chunk or commit, got ${JSON.stringify(params.step)}`);
    }
  }

  private begin(p: Record<string, unknown>): unknown {
    if (typeof p.version !== 'string' || !AGENT_VERSION_PATTERN.test(p.version)) bad('version', 'must be an agent version string');
    if (typeof p.sha256 !== 'string' || !SHA256.test(p.sha256)) bad('sha256', 'must be 64 lowercase hex digits');
    const size = int(p.size, 'size', 1, maxBundleBytes);
    const chunks = int(p.chunks, 'chunks', 1, Math.ceil(maxBundleBytes / 1024));
    if (chunks !== Math.ceil(size / UPGRADE_CHUNK_BYTES)) bad('chunks', `must be ceil(size / ${UPGRADE_CHUNK_BYTES}) = ${Math.ceil(size / UPGRADE_CHUNK_BYTES)}`);
    if (readUpgradeState(upgradePaths(this.bundle!))?.phase === 'trial') throw new SkiffError('SKIFF_ERR_CONFLICT', 'an upgrade is on trial on this node: wait until it is committed or rolled back');
    if (this.download?.sha256 !== p.sha256) this.download = { version: p.version, sha256: p.sha256, size, parts: new Array(chunks).fill(undefined) };
    this.log.info(`receiving skiff-agent ${p.version} (${size} bytes, ${chunks} chunks, sha256 ${p.sha256.slice(0, 12)}…)`);
    return { have: this.download.parts.filter(Boolean).length };
  }

  private chunk(p: Record<string, unknown>): unknown {
    const d = this.download;
    if (!d || d.sha256 !== p.sha256) throw new SkiffError('SKIFF_ERR_CONFLICT', 'upgrade: chunk for a download that did not begin (send begin first)');
    const index = int(p.index, 'index', 0, d.parts.length - 1);
    if (!(p.data instanceof Uint8Array)) bad('data', 'must be bytes');
    const expected = index === d.parts.length - 1 ? d.size - index * UPGRADE_CHUNK_BYTES : UPGRADE_CHUNK_BYTES;
    if (p.data.length !== expected) bad('data', `chunk ${index} must be ${expected} bytes, got ${p.data.length}`);
    d.parts[index] = Buffer.from(p.data);
    return { received: d.parts.reduce((n, b) => n + (b?.length ?? 0), 0) };
  }

  private async commit(p: Record<string, unknown>): Promise<unknown> {
    const d = this.download;
    if (!d || d.sha256 !== p.sha256) throw new SkiffError('SKIFF_ERR_CONFLICT', 'upgrade: commit of a download that did not begin');
    const missing = d.parts.findIndex((b) => !b);
    if (missing >= 0) throw new SkiffError('SKIFF_ERR_CONFLICT', `upgrade: chunk ${missing} is missing`);
    const trialSeconds = p.trialSeconds === undefined ? DEFAULT_TRIAL_SECONDS : int(p.trialSeconds, 'trialSeconds', 5, 3600);
    const bytes = Buffer.concat(d.parts as Buffer[]);
    this.download = undefined;
    const digest = createHash('sha256').update(bytes).digest('hex');
    if (digest !== d.sha256) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `upgrade: sha256 mismatch: announced ${d.sha256}, received ${digest}`);
    let version: string;
    try {
      version = parseBundleHeader(bytes).version;
    } catch (err) {
      throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `upgrade: ${(err as Error).message}`);
    }
    if (version !== d.version) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `upgrade: the bundle says version ${version}, the master announced ${d.version}`);
    const paths = upgradePaths(this.bundle!);
    await writeFileAtomic(paths.next, bytes, 0o644);
    await writeUpgradeState(paths, { phase: 'trial', from: AGENT_VERSION, to: version, sha256: digest, attempts: 0, trialMs: trialSeconds * 1000, at: new Date().toISOString() });
    this.log.info(`${version} written to ${paths.next}; restarting into it (${AGENT_VERSION} stays until ${version} has rejoined, ${trialSeconds}s at most)`);
    setTimeout(this.restart, 100); // after this answer is on its way (the stop flushes QoS 1 messages in flight)
    return { restarting: true, from: AGENT_VERSION, to: version };
  }
}

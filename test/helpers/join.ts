/** Joins a node through the real join exchange (the agent's own code) and returns its credential. */
import { resolveOptions, type AgentOptions } from '../../edge-agent/config.js';
import { join } from '../../edge-agent/join.js';
import { tmpdir } from 'node:os';

const quiet = { info() {}, warn() {}, error() {}, debug() {} };

/** Runs the join exchange as node `name` against `master` with `token`; `extra` adds agent options (labels, discovered, joinTimeoutMs). */
export async function joinAs(master: string, token: string, name: string, extra: Partial<AgentOptions> = {}): Promise<string> {
  const cfg = resolveOptions({ master, name, dataDir: tmpdir(), address: '127.0.0.1', logger: quiet, joinTimeoutMs: 10_000, ...extra });
  return (await join(cfg, token, cfg.discovered)).credential;
}

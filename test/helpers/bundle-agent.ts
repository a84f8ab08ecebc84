/**
 * The one-file agent (dist/skiff-agent.mjs) as real processes: copied alone into a directory and run with the
 * host's node or with Debian's node under emulated ARM (helpers/arm.ts). With `supervised`, a small loop plays
 * systemd's `Restart=always` (and sets `SKIFF_AGENT_RESTART=exit` as the unit does): the agent restarts itself
 * for an upgrade by exiting 75, which is also the only way under qemu-user (no exec of an ARM binary).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, createWriteStream, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { armNode, type ArmArch } from './arm.js';
import { root } from './procs.js';

/** The bundle `npm run build` writes. */
export const bundleFile = join(root, 'dist', 'skiff-agent.mjs');

/** Fails clearly when the bundle is missing. */
export function requireBundle(): void {
  if (!existsSync(bundleFile)) throw new Error('dist/skiff-agent.mjs is missing: run "npm run build" (npm test does it first)');
}

/** Copies the bundle alone into `dir` (created); returns its path there. */
export function copyBundle(dir: string, from = bundleFile): string {
  mkdirSync(dir, { recursive: true });
  const to = join(dir, 'skiff-agent.mjs');
  copyFileSync(from, to);
  return to;
}

/** How to start one agent. */
export interface BundleAgentOptions {
  bundle: string;
  /** Host node (default) or emulated ARM. */
  arch?: ArmArch;
  master: string;
  token: string;
  name: string;
  dataDir: string;
  log: string;
  /** Restart the agent whenever it exits (systemd's Restart=always) and tell it so (SKIFF_AGENT_RESTART=exit). */
  supervised?: boolean;
  lease?: string;
}

/** A running agent (through its restarts when supervised). */
export interface BundleAgent {
  /** The process running now. */
  child(): ChildProcess;
  /** How many times the supervisor started it again. */
  restarts(): number;
  /** Stops the supervision and the agent (SIGTERM, SIGKILL after 10 s); pods keep running. */
  stop(): Promise<void>;
}

/** Starts an agent from a bundle. The join token goes through SKIFF_JOIN_TOKEN, as a board's would through a file. */
export async function startBundleAgent(o: BundleAgentOptions): Promise<BundleAgent> {
  const prefix = o.arch ? await armNode(o.arch) : [process.execPath];
  const args = [...prefix.slice(1), o.bundle, 'join', '--master', o.master, '--name', o.name, '--data-dir', o.dataDir, '--address', '127.0.0.1', '--lease-interval', o.lease ?? '1s'];
  const out = createWriteStream(o.log, { flags: 'a' });
  const env = { ...process.env, SKIFF_JOIN_TOKEN: o.token, ...(o.supervised ? { SKIFF_AGENT_RESTART: 'exit' } : {}) };
  let stopping = false;
  let restarts = 0;
  let current: ChildProcess;
  const launch = () => {
    current = spawn(prefix[0], args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    current.stdout!.pipe(out, { end: false });
    current.stderr!.pipe(out, { end: false });
    if (o.supervised)
      current.once('exit', (code, signal) => {
        if (stopping) return;
        out.write(`[supervisor] ${o.name} exited (${signal ?? code}); starting it again\n`);
        restarts++;
        setTimeout(launch, 200); // RestartSec
      });
  };
  launch();
  return {
    child: () => current,
    restarts: () => restarts,
    async stop() {
      stopping = true;
      const c = current;
      if (c.exitCode !== null || c.signalCode !== null) return;
      const exited = new Promise<void>((r) => c.once('exit', () => r()));
      c.kill('SIGTERM');
      const t = setTimeout(() => c.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(t);
    },
  };
}

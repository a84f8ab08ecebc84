/**
 * The agent's entry point (the bundle's, and bin/skiff-agent.js's). It stays small on purpose: it only decides
 * which code runs, and loads the agent itself (main.ts) lazily.
 *
 * A bundle that finds a candidate on trial beside it (an upgrade the master sent: upgrade/state.ts) stays the
 * supervisor of that trial: it imports the candidate into this process and hands it the command line. The
 * candidate commits once it has rejoined (promote: it becomes the bundle). If the candidate cannot be imported,
 * does not rejoin within the trial's deadline, or has crashed MAX_TRIAL_STARTS times, this known-good code
 * rolls it back — so a broken bundle never replaces a working one, even one that dies while being loaded.
 */
import fs from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { IS_BUNDLE } from './version.js';
import { MAX_TRIAL_STARTS, promote, readUpgradeState, rollBack, upgradePaths, writeUpgradeState, type UpgradeState } from './upgrade/state.js';
import { restartProcess } from './upgrade/restart.js';

/** The launch interface between bundles of different versions; a candidate must export the same number. */
export const LAUNCH_API = 1;

/** What a launching bundle hands the code it runs. */
export interface LaunchHost {
  api: typeof LAUNCH_API;
  /** The bundle file systemd (or the operator) runs; absent when running from a checkout's dist/. */
  bundle?: string;
  /** Present while this code is a candidate on trial: call `commit` once rejoined. */
  trial?: { version: string; commit(): Promise<void> };
}

const say = (line: string) => process.stderr.write(`skiff-agent: ${line}\n`);

/** Runs the command line; resolves with the exit code. `host` is given when a launching bundle runs this one as a candidate. */
export async function launch(argv: string[], host?: LaunchHost): Promise<number> {
  const bundle = host?.bundle ?? (IS_BUNDLE ? fileURLToPath(import.meta.url) : undefined);
  if (!host && bundle && argv[0] === 'join') {
    const code = await runTrial(bundle, argv);
    if (code !== undefined) return code;
  }
  const { main } = await import('./main.js');
  return main(argv, { api: LAUNCH_API, ...(bundle ? { bundle } : {}), ...(host?.trial ? { trial: host.trial } : {}) });
}

/** Runs a candidate on trial, if there is one; undefined when this bundle's own agent should run. */
async function runTrial(bundle: string, argv: string[]): Promise<number | undefined> {
  const p = upgradePaths(bundle);
  const s = readUpgradeState(p);
  if (s?.phase !== 'trial') return undefined;
  const fail = async (reason: string) => {
    say(`upgrade to ${s.to} rolled back: ${reason}; running ${s.from}`);
    await rollBack(p, s, reason);
  };
  if (!fs.existsSync(p.next)) return void (await fail(`the new bundle ${p.next} is gone`));
  if (s.attempts >= MAX_TRIAL_STARTS) return void (await fail(`it started ${s.attempts} time(s) without rejoining the master`));
  const trial: UpgradeState = { ...s, attempts: s.attempts + 1 };
  await writeUpgradeState(p, trial);
  let mod: { LAUNCH_API?: unknown; launch?: unknown };
  try {
    mod = await import(pathToFileURL(p.next).href);
  } catch (err) {
    return void (await fail(`it cannot start: ${(err as Error).message}`));
  }
  if (mod.LAUNCH_API !== LAUNCH_API || typeof mod.launch !== 'function') return void (await fail(`it is not a bundle this agent can launch (LAUNCH_API ${String(mod.LAUNCH_API)})`));
  say(`trying ${s.to} (start ${trial.attempts} of ${MAX_TRIAL_STARTS}); it has ${Math.round(s.trialMs / 1000)}s to rejoin`);
  let settled = false;
  let expired = false;
  const timer = setTimeout(() => {
    if (settled) return;
    settled = expired = true;
    void fail(`it did not rejoin the master within ${Math.round(s.trialMs / 1000)}s`).finally(() => {
      process.kill(process.pid, 'SIGTERM'); // the candidate stops as on any SIGTERM: pods keep running
      setTimeout(() => void restartProcess(bundle, argv, say), 30_000).unref();
    });
  }, s.trialMs);
  const commit = async () => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    await promote(p, { ...s, attempts: trial.attempts });
    say(`upgraded from ${s.from} to ${s.to}`);
  };
  const code = await (mod.launch as (a: string[], h: LaunchHost) => Promise<number>)(argv, { api: LAUNCH_API, bundle, trial: { version: s.to, commit } });
  clearTimeout(timer);
  // Rolled back: run the known-good code again (the candidate is gone).
  if (expired) return restartProcess(bundle, argv, say);
  return code;
}

/** True when this module is the file node was started with (not imported by another bundle as a candidate). */
function isProcessEntry(): boolean {
  try {
    return !!process.argv[1] && fs.realpathSync(process.argv[1]) === fs.realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (IS_BUNDLE && isProcessEntry()) void launch(process.argv.slice(2)).then((code) => process.exit(code));

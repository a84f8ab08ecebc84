/**
 * `skiff-agent stop [--pods]`: stops the agent running on a data dir (SIGTERM; it leaves its pods running,
 * as on any deliberate stop) and waits for it; with `pods`, then stops every pod process it recorded, each
 * with its own grace period, and waits for them too — the node is empty afterwards. Works as well when the
 * agent is already gone (killed, crashed). The desired-set cache stays: a later agent start runs the pods
 * again, as after a reboot (`skiff drain` first moves them to other nodes).
 */
import { layout } from './config.js';
import { agentCgroupName, detectCgroups } from './cgroups/detect.js';
import { DriverSet } from './drivers/registry.js';
import { runningAgent } from './lock.js';
import type { Logger } from './log.js';
import { isSameProcess } from './procfs.js';

/** What `stopNode` did. */
export interface StopResult {
  /** The pid of the agent that was stopped, if one ran. */
  agentPid?: number;
  /** The agent ignored SIGTERM for `timeoutMs` and was killed. */
  killed: boolean;
  /** Pod processes stopped (with `pods`). */
  pods: number;
}

/** process.kill that tolerates a process that ended meanwhile. */
function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

async function goneWithin(pid: number, startTime: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (isSameProcess(pid, startTime)) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
}

/** Stops the agent on `dataDir` (SIGKILL after `timeoutMs`) and, with `pods`, its pods. */
export async function stopNode(dataDir: string, o: { pods: boolean; timeoutMs: number; log: Logger }): Promise<StopResult> {
  const agent = runningAgent(dataDir);
  let killed = false;
  if (agent) {
    o.log.info(`stopping skiff-agent (pid ${agent.pid})`);
    signal(agent.pid, 'SIGTERM');
    if (!(await goneWithin(agent.pid, agent.startTime, o.timeoutMs))) {
      o.log.warn(`skiff-agent (pid ${agent.pid}) did not stop within ${o.timeoutMs / 1000} s; killing it`);
      signal(agent.pid, 'SIGKILL');
      killed = true;
      await goneWithin(agent.pid, agent.startTime, 2000);
    }
  }
  let pods = 0;
  if (o.pods) {
    const podsDir = layout(dataDir).pods;
    const drivers = await new DriverSet().load({ dataDir, log: o.log });
    for (const d of drivers.all()) pods += await d.reap(podsDir, new Set(), o.log);
    // The pods' cgroups go too (what is still in them is killed first).
    const found = detectCgroups({ name: agentCgroupName(dataDir) });
    if (found.ok) {
      for (const uid of found.cgroups.podUids()) await found.cgroups.removePod(uid);
      found.cgroups.dispose();
    }
  }
  return { ...(agent ? { agentPid: agent.pid } : {}), killed, pods };
}

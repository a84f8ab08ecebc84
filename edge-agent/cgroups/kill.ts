/** Emptying a cgroup: SIGKILL to what is in it, again until it is empty (a process may fork meanwhile). */

/** How long emptying may take before it gives up; 2 s (a SIGKILLed process is gone in microseconds unless in D state). */
const EMPTY_WITHIN_MS = 2000;

/**
 * Kills every pid `list()` gives (or all at once through `atOnce`, v2's cgroup.kill) until the list is
 * empty; resolves false when processes are still there after EMPTY_WITHIN_MS.
 */
export async function killPids(list: () => number[], atOnce: () => boolean): Promise<boolean> {
  const deadline = Date.now() + EMPTY_WITHIN_MS;
  for (;;) {
    const pids = list();
    if (pids.length === 0) return true;
    if (Date.now() > deadline) return false;
    if (!atOnce())
      for (const pid of pids) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone already
        }
      }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Watching for the end of a recorded process that is not the agent's child (an adopted attempt). */
import fs from 'node:fs';
import { isRunning, type ProcessRecord } from './process-record.js';

/**
 * Resolves once the recorded process is gone. It is not our child: a 1 s poll of /proc, and a watch on the
 * state dir that polls fast once the wrapper writes the exit file (the group ends right after). `cancel`
 * stops watching.
 */
export function watchGone(r: ProcessRecord, stateDir: string, exitName: string): { gone: Promise<void>; cancel(): void } {
  let finish = () => {};
  const gone = new Promise<void>((resolve) => (finish = resolve));
  let fast: NodeJS.Timeout | undefined;
  const check = () => {
    if (isRunning(r)) return;
    cancel();
    finish();
  };
  const slow = setInterval(check, 1000).unref();
  let watcher: fs.FSWatcher | undefined;
  try {
    watcher = fs.watch(stateDir, (_event, name) => {
      if (name !== exitName || fast) return;
      let tries = 0;
      fast = setInterval(() => (++tries > 300 ? clearInterval(fast) : check()), 10).unref();
    });
    watcher.on('error', () => undefined);
    watcher.unref();
  } catch {
    // no inotify: the slow poll alone
  }
  const cancel = () => {
    clearInterval(slow);
    clearInterval(fast);
    watcher?.close();
  };
  check();
  return { gone, cancel };
}

/**
 * A stop that comes as an attempt starts (a pod deleted the moment it was bound: the agent's runner stops the attempt
 * as soon as the driver's start returns) ends it, whenever in the wrapper's start the SIGTERM lands: before the shell
 * trapped TERM, between the trap and the command's exec, or after (drivers/wrapper.ts termLateStarters). Without
 * the second look, ~4 % of these stops waited for the grace period's SIGKILL (30 s).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { processDriver } from '../../edge-agent/drivers/process.js';
import type { LaunchSpec } from '../../edge-agent/drivers/types.js';

const base = fs.mkdtempSync(path.join(os.tmpdir(), 'skiff-stop-at-start-'));
afterAll(() => fs.rmSync(base, { recursive: true, force: true }));

describe('process driver: a stop as the attempt starts', () => {
  it('ends the command at once wherever in the first 4 ms after the start it comes (240 starts, grace 30 s)', async () => {
    const slow: number[] = [];
    for (let i = 0; i < 240; i++) {
      const spec: LaunchSpec = {
        podUid: `u${i}`, namespace: 'default', podName: `p${i}`, containerName: 'main', argv: ['/bin/sleep', '30'], env: { PATH: '/usr/bin:/bin' },
        logFile: path.join(base, 'logs', `u${i}`, '0.log'), stateDir: path.join(base, 'pods', `u${i}`), restartCount: 0, graceMs: 30_000, mounts: [], limits: {},
      };
      fs.mkdirSync(path.dirname(spec.logFile), { recursive: true });
      const h = await processDriver.start(spec);
      // A sweep over the wrapper's start: 0 to 4 ms after the driver's start returned, in 0.05 ms steps.
      const delayMs = (i % 80) * 0.05;
      const t0 = performance.now();
      while (performance.now() - t0 < delayMs) {
        // busy: a timer cannot wait a fraction of a millisecond
      }
      const ended = await Promise.race([h.stop(30_000).then(() => true), new Promise<false>((r) => setTimeout(() => r(false), 5_000))]);
      if (!ended) {
        slow.push(delayMs);
        try {
          process.kill(-h.pid!, 'SIGKILL');
        } catch {
          // gone meanwhile
        }
      }
    }
    expect(slow).toEqual([]);
  }, 120_000);
});

/** The driver contract (contract.ts) for the process driver: host processes under the agent's wrapper. */
import fs from 'node:fs';
import path from 'node:path';
import { processDriver } from '../../edge-agent/drivers/process.js';
import type { LaunchSpec } from '../../edge-agent/drivers/types.js';
import { tempDir } from '../helpers/wait.js';
import { driverContract } from './contract.js';

driverContract('process', async () => {
  const dir = await tempDir('skiff-contract-proc-');
  const podsDir = path.join(dir, 'pods');
  const spec = (pod: string, argv: string[], restartCount = 0, graceMs = 2000): LaunchSpec => ({
    podUid: `uid-${pod}`, namespace: 'default', podName: pod, containerName: 'main', argv,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    logFile: path.join(dir, 'logs', pod, `${restartCount}.log`), stateDir: path.join(podsDir, `uid-${pod}`), restartCount, graceMs,
  });
  return {
    driver: processDriver,
    podsDir,
    launch: (o) => spec(o.pod, ['sh', '-c', o.script], o.restartCount, o.graceMs),
    broken: (pod) => spec(pod, ['/no/such/command']),
    async close() {
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
});

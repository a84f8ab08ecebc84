/** The driver contract (contract.ts) for the container driver, over a private Podman (test/helpers/podman.ts). */
import fs from 'node:fs';
import path from 'node:path';
import { startPodman } from '../helpers/podman.js';
import { tempDir } from '../helpers/wait.js';
import { driverContract } from './contract.js';
import { driverOver, launch } from './container-builders.js';

driverContract('container', async () => {
  const pm = await startPodman();
  const dir = await tempDir('skiff-contract-ctr-');
  const driver = await driverOver(pm, `contract-${process.pid}`);
  return {
    driver,
    podsDir: path.join(dir, 'pods'),
    launch: (o) => launch(dir, { image: pm.images.busybox, script: o.script, pod: o.pod, restartCount: o.restartCount, graceMs: o.graceMs }),
    broken: (pod) => launch(dir, { image: pm.images.busybox, pod, oci: { entrypoint: ['/no/such/binary'] } }),
    async close() {
      await pm.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
});

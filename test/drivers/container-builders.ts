/** Builders for container driver tests: a connected driver over a test Podman, and launch specs. */
import path from 'node:path';
import { ContainerDriver } from '../../edge-agent/drivers/container/driver.js';
import { probeEndpoint } from '../../edge-agent/drivers/container/endpoint.js';
import { connectEngine } from '../../edge-agent/drivers/container/engine.js';
import type { OciLaunch } from '../../edge-agent/drivers/container/types.js';
import type { ContainerLimits } from '../../edge-agent/cgroups/types.js';
import type { LaunchSpec } from '../../edge-agent/drivers/types.js';
import { quietLogger } from '../helpers/cluster.js';
import type { Podman } from '../helpers/podman.js';

/** A container driver over `pm` for node `node`. */
export async function driverOver(pm: Podman, node = 'test-node'): Promise<ContainerDriver> {
  const info = await probeEndpoint(pm.endpoint);
  if ('error' in info) throw new Error(info.error);
  return new ContainerDriver(await connectEngine(info, node), quietLogger);
}

let seq = 0;

/** A launch of `image` running `sh -c script` (or the image's own command without one), as pods/plan.ts and oci-prepare.ts make it. */
export function launch(
  dir: string,
  o: { image: string; script?: string; pod?: string; container?: string; restartCount?: number; oci?: Partial<OciLaunch>; env?: Record<string, string>; graceMs?: number; limits?: ContainerLimits; mounts?: LaunchSpec['mounts'] },
): LaunchSpec {
  const pod = o.pod ?? `pod-${process.pid}-${++seq}`;
  const container = o.container ?? 'main';
  const restartCount = o.restartCount ?? 0;
  return {
    podUid: `uid-${pod}`,
    namespace: 'default',
    podName: pod,
    containerName: container,
    argv: o.script ? ['sh', '-c', o.script] : [],
    env: o.env ?? {},
    logFile: path.join(dir, pod, container, `${restartCount}.log`),
    stateDir: path.join(dir, 'pods', `uid-${pod}`),
    restartCount,
    graceMs: o.graceMs ?? 2000,
    image: o.image,
    // The test images are local (`localhost/...:test`): what the driver's pull returns for them.
    imageRef: o.image,
    limits: o.limits ?? {},
    mounts: o.mounts ?? [],
    oci: {
      ...(o.script ? { entrypoint: ['sh', '-c', o.script] } : {}),
      security: {},
      sandbox: { network: 'bridge', hostname: pod, ports: [] },
      ...o.oci,
    },
  };
}

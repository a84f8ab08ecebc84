/**
 * The driver contract (contract.ts) for the container driver, over a private Podman (test/helpers/podman.ts)
 * and its offline busybox image. Each data dir is a node of its own (the driver's records are the engine's
 * labels, by node), so a second driver on the same dir is that node's agent restarted.
 */
import path from 'node:path';
import { afterAll } from 'vitest';
import { startPodman, type Podman } from '../helpers/podman.js';
import { runDriverContract } from './contract.js';
import { driverOver } from './container-builders.js';

let podman: Promise<Podman> | undefined;
const engine = () => (podman ??= startPodman());
afterAll(async () => {
  if (podman) await (await podman).stop();
}, 60_000);

const image = async () => (await engine()).images.busybox;

runDriverContract({
  name: 'container',
  make: async (dataDir) => driverOver(await engine(), `contract-${process.pid}-${path.basename(dataDir)}`),
  // A moment's sleep first: the engine reports a container's pid only while it runs, and the suite checks it.
  exits: async (code) => ({ image: await image(), argv: ['/bin/sh', '-c', `sleep 0.3; echo "hello from container: GREETING=$GREETING"; echo "a line on stderr" >&2; exit ${code}`] }),
  // PID 1 of a container gets no default SIGTERM action: the workload honours it itself, as a container's must.
  ticks: async () => ({ image: await image(), argv: ['/bin/sh', '-c', 'trap "exit 143" TERM; i=0; while true; do echo "tick $i"; i=$((i+1)); sleep 0.1; done'] }),
  ignoresTerm: async () => ({ image: await image(), argv: ['/bin/sh', '-c', 'trap "" TERM; echo ready; while true; do sleep 0.1; done'] }),
  grows: async () => ({ image: await image(), argv: ['/bin/sh', '-c', 'x=0123456789abcdef; while true; do x="$x$x"; done'] }),
  exec: 'supported',
});

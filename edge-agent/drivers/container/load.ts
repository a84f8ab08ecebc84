/**
 * Sets up the container driver at agent start: find an engine (endpoint.ts), load dockerode, make sure the
 * pause image is there. The endpoint that answered is remembered in DATA/container-runtime.json, so
 * `skiff-agent stop --pods` reaches the same engine after the agent is gone. No engine: no `container` runtime,
 * and the reason is logged once.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from '../../log.js';
import { ContainerDriver } from './driver.js';
import { findEngine, runtimeVersion, type EngineInfo } from './endpoint.js';
import { connectEngine } from './engine.js';
import { ensurePauseImage } from './sandbox.js';

/** The file under the data dir naming the engine last used. */
export const runtimeFile = (dataDir: string) => path.join(dataDir, 'container-runtime.json');

/** The container driver of this agent, or why there is none. */
export type ContainerSetup = { driver: ContainerDriver; info: EngineInfo; runtime: string } | { driver?: undefined; reason: string };

/**
 * Finds and connects the engine. `endpoint` false turns the container runtime off; a string is the only endpoint
 * tried (`--container-endpoint`); undefined tries $DOCKER_HOST and the default sockets.
 */
export async function loadContainerDriver(o: { endpoint?: string | false; node: string; dataDir: string; log: Logger; env?: Record<string, string | undefined> }): Promise<ContainerSetup> {
  if (o.endpoint === false) return { reason: 'the container runtime is off (containerEndpoint: false)' };
  const found = await findEngine(o.endpoint, o.env ?? process.env);
  if ('errors' in found) return { reason: `no container engine answered (${found.errors.join('; ')})` };
  const engine = await connectEngine(found, o.node);
  try {
    await ensurePauseImage(engine);
  } catch (err) {
    return { reason: `${found.url} answered but the pod sandbox image could not be made: ${(err as Error).message}` };
  }
  try {
    fs.writeFileSync(runtimeFile(o.dataDir), JSON.stringify({ endpoint: found.url, node: o.node }), { mode: 0o600 });
  } catch (err) {
    o.log.warn(`cannot record the container endpoint in ${runtimeFile(o.dataDir)}: ${(err as Error).message}`);
  }
  const runtime = runtimeVersion(found);
  o.log.info(`container runtime ${runtime} at ${found.url}`);
  return { driver: new ContainerDriver(engine, o.log, { info: found, runtime }), info: found, runtime };
}

/** The engine a data dir's agent used, for `stop --pods`; undefined when it never used one. */
export function recordedEndpoint(dataDir: string): { endpoint: string; node: string } | undefined {
  try {
    const r = JSON.parse(fs.readFileSync(runtimeFile(dataDir), 'utf8')) as { endpoint?: unknown; node?: unknown };
    return typeof r.endpoint === 'string' && typeof r.node === 'string' ? { endpoint: r.endpoint, node: r.node } : undefined;
  } catch {
    return undefined;
  }
}

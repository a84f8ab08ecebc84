/**
 * The agent's handle on a container engine: dockerode over the endpoint that answered (endpoint.ts), loaded
 * only then, so an agent on a board without an engine never pays for the library. Also the few calls every
 * part of the driver shares: listing this node's containers by label, inspecting without throwing, and
 * Podman's quirks (it answers a successful exec resize with 201, which dockerode calls an error).
 */
import type Docker from 'dockerode';
import type { ContainerInfo, ContainerInspectInfo } from 'dockerode';
import type { EngineInfo } from './endpoint.js';
import { L, labelFilter } from './labels.js';

/** A connected engine. */
export interface Engine {
  docker: Docker;
  info: EngineInfo;
  /** The node whose containers this agent manages (label io.skiff.node). */
  node: string;
}

/** Loads dockerode and connects it to the engine that answered. */
export async function connectEngine(info: EngineInfo, node: string): Promise<Engine> {
  const { default: DockerClass } = await import('dockerode');
  const docker = new DockerClass({ ...info.address });
  return { docker, info, node };
}

/** The error's HTTP status from the engine (dockerode puts it on `statusCode`), if any. */
export function statusOf(err: unknown): number | undefined {
  const s = (err as { statusCode?: unknown })?.statusCode;
  return typeof s === 'number' ? s : undefined;
}

/** The engine's own words for an error, without dockerode's `(HTTP code 500) server error -` prefix. */
export function engineMessage(err: unknown): string {
  const e = err as { json?: { message?: unknown; cause?: unknown }; message?: string };
  const m = e?.json && typeof e.json.message === 'string' ? e.json.message : (e?.message ?? String(err));
  return m.replace(/^\(HTTP code \d+\) [^-]*- /, '').trim();
}

/** The containers of this node (running or not), narrowed by more labels. */
export async function listOwn(e: Engine, more: Record<string, string> = {}): Promise<ContainerInfo[]> {
  return e.docker.listContainers({ all: true, filters: labelFilter({ [L.node]: e.node, ...more }) });
}

/** Inspects a container; undefined when it is gone. */
export async function inspect(e: Engine, id: string): Promise<ContainerInspectInfo | undefined> {
  try {
    return await e.docker.getContainer(id).inspect();
  } catch (err) {
    if (statusOf(err) === 404) return undefined;
    throw err;
  }
}

/** Removes a container, running or not; a container already gone is fine. */
export async function removeContainer(e: Engine, id: string): Promise<void> {
  try {
    await e.docker.getContainer(id).remove({ force: true, v: true });
  } catch (err) {
    const s = statusOf(err);
    if (s === 404 || (s === 409 && /in progress/i.test(engineMessage(err)))) return;
    throw err;
  }
}

/** True when the image is in the engine's store. */
export async function hasImage(e: Engine, ref: string): Promise<boolean> {
  try {
    await e.docker.getImage(ref).inspect();
    return true;
  } catch (err) {
    if (statusOf(err) === 404) return false;
    throw err;
  }
}

/** Resizes an exec's TTY. Podman answers 201 where Docker answers 200: both are success. */
export async function resizeExec(e: Engine, execId: string, rows: number, cols: number): Promise<void> {
  try {
    await e.docker.getExec(execId).resize({ h: rows, w: cols });
  } catch (err) {
    if (statusOf(err) !== 201) throw err;
  }
}

/**
 * `skiff-agent image load FILE.tar`: images for boards without a registry. The tar is what `docker save` or
 * `podman save` writes (a docker-archive); the engine's `/images/load` takes it as is, so the board's pods
 * can then run it with `imagePullPolicy: IfNotPresent` or `Never`. The engine is the one the agent uses:
 * `--container-endpoint`, else the one recorded in the data dir, else the usual search.
 */
import fs from 'node:fs';
import { findEngine, probeEndpoint, type EngineInfo } from './endpoint.js';
import { connectEngine, engineMessage } from './engine.js';
import { recordedEndpoint } from './load.js';

/** What a load did. */
export interface LoadResult {
  /** Image names the engine reported loaded (`Loaded image: localhost/app:1`). */
  images: string[];
  engine: string;
}

/** The engine to load into. */
async function engineFor(endpoint: string | undefined, dataDir: string): Promise<EngineInfo> {
  const url = endpoint ?? recordedEndpoint(dataDir)?.endpoint;
  const found = url ? await probeEndpoint(url) : await findEngine(undefined);
  if ('error' in found) throw new Error(`no container engine at ${url}: ${found.error}`);
  if ('errors' in found) throw new Error(`no container engine answered (${found.errors.join('; ')}); give --container-endpoint`);
  return found;
}

/** Loads a docker-archive tar into the engine; rejects with the engine's reason. */
export async function loadImageArchive(file: string, o: { endpoint?: string; dataDir: string }): Promise<LoadResult> {
  const st = fs.statSync(file); // a missing file fails here with its path, not inside the engine
  if (!st.isFile()) throw new Error(`${file}: not a file`);
  const info = await engineFor(o.endpoint, o.dataDir);
  const engine = await connectEngine(info, '');
  let out: NodeJS.ReadableStream;
  try {
    out = (await engine.docker.loadImage(fs.createReadStream(file), { quiet: true } as object)) as NodeJS.ReadableStream;
  } catch (err) {
    throw new Error(`${info.url} refused ${file}: ${engineMessage(err)}`);
  }
  const lines = await new Promise<{ stream?: string; error?: string }[]>((resolve, reject) =>
    engine.docker.modem.followProgress(out, (err: Error | null, res: { stream?: string; error?: string }[]) => (err ? reject(err) : resolve(res ?? []))),
  );
  const failed = lines.find((l) => l?.error)?.error;
  if (failed) throw new Error(`${info.url} could not load ${file}: ${failed}`);
  const images = lines.flatMap((l) => [...(l?.stream ?? '').matchAll(/Loaded image(?: ID)?\(?s?\)?: (\S+)/g)].map((m) => m[1]));
  return { images, engine: info.url };
}

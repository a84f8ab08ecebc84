/**
 * The node's WASI module cache, `DATA/wasi/modules/`: every module by the sha256 of its bytes
 * (`<sha256>.wasm`), and memory-capped variants beside it (`<sha256>.max<pages>.wasm`, sections.ts). A URL
 * module is fetched once, checked against the digest its image names, and written only when it matches; a
 * configmap:// module is the ConfigMap's binaryData from the desired set; a file:// module is read where it
 * is. Later pulls of the same digest, and every restart, cost a stat. The cache is per node, so the same
 * module runs unchanged on x86 and ARM nodes, each with its own copy.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { own } from '../../../protocol/own.js';
import { parseModuleImage } from '../../../protocol/wasi-image.js';
import type { KObject } from '../../../protocol/types.js';
import { PullError, type PullContext } from '../types.js';
import { capMemories } from './sections.js';

/** The largest module taken: 128 MiB (a fetch past it is cut off). */
export const MAX_MODULE_BYTES = 128 << 20;
/** A fetch that takes longer is given up (and retried with back-off); 60 s. */
const FETCH_TIMEOUT_MS = 60_000;

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** Writes `data` to `file` through a temp file and a rename: a reader sees all of it or nothing. */
function writeAtomic(file: string, data: Uint8Array): void {
  const tmp = `${file}.tmp-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  fs.writeFileSync(tmp, data, { mode: 0o644 });
  fs.renameSync(tmp, file);
}

/** The module cache of one agent. */
export class ModuleStore {
  /** Fetches in flight by digest: two pods of one module fetch it once. */
  private readonly inflight = new Map<string, Promise<string>>();

  constructor(readonly dir: string) {}

  /** Resolves a wasi container's image to a module file on this node; throws a PullError saying why not. */
  async pull(image: string, ctx: PullContext): Promise<string> {
    const ref = parseModuleImage(image);
    if ('error' in ref) throw new PullError('InvalidImageName', `image ${JSON.stringify(image)}: ${ref.error}`);
    fs.mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    if (ref.kind === 'file') return this.fromFile(ref.path);
    if (ref.kind === 'configmap') return this.fromConfigMap(ref.name, ref.key, ctx);
    const cached = path.join(this.dir, `${ref.sha256}.wasm`);
    if (fs.existsSync(cached)) return cached;
    let p = this.inflight.get(ref.sha256);
    if (!p) {
      p = this.fetch(ref.url, ref.sha256, cached).finally(() => this.inflight.delete(ref.sha256));
      this.inflight.set(ref.sha256, p);
    }
    return p;
  }

  /** The module with its memory capped at `maxPages` (cached), or the module itself when it needs no cap. */
  capped(modulePath: string, maxPages: number): string {
    const bytes = fs.readFileSync(modulePath);
    const digest = path.dirname(modulePath) === this.dir ? path.basename(modulePath, '.wasm') : sha256(bytes);
    const file = path.join(this.dir, `${digest}.max${maxPages}.wasm`);
    if (fs.existsSync(file)) return file;
    const out = capMemories(bytes, maxPages);
    if (!out) return modulePath;
    writeAtomic(file, out);
    return file;
  }

  private fromFile(p: string): string {
    let st: fs.Stats;
    try {
      st = fs.statSync(p);
    } catch {
      throw new PullError('ErrImagePull', `module file ${p} not found on this node`);
    }
    if (!st.isFile()) throw new PullError('ErrImagePull', `module ${p} is not a file`);
    return p;
  }

  private fromConfigMap(name: string, key: string, ctx: PullContext): string {
    const cm = own(ctx.desired.configMaps, `${ctx.namespace}/${name}`) as (KObject & { binaryData?: Record<string, string> }) | undefined;
    if (!cm) throw new PullError('CreateContainerConfigError', `configmap "${name}" not found (the module configmap://${name}/${key})`);
    const b64 = own(cm.binaryData, key);
    if (typeof b64 !== 'string') throw new PullError('CreateContainerConfigError', `configmap "${name}" has no binaryData key "${key}" (the module configmap://${name}/${key})`);
    const bytes = Buffer.from(b64, 'base64');
    const file = path.join(this.dir, `${sha256(bytes)}.wasm`);
    if (!fs.existsSync(file)) writeAtomic(file, bytes);
    return file;
  }

  /** Streams the URL into a temp file while hashing it; keeps it only when the digest matches. */
  private async fetch(url: string, want: string, file: string): Promise<string> {
    const tmp = `${file}.part-${process.pid}`;
    const hash = createHash('sha256');
    let res: Response;
    try {
      res = await fetch(url, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS), redirect: 'follow' });
    } catch (err) {
      throw new PullError('ErrImagePull', `fetching ${url}: ${(err as Error).message}`);
    }
    if (!res.ok || !res.body) throw new PullError('ErrImagePull', `fetching ${url}: HTTP ${res.status} ${res.statusText}`);
    const fd = fs.openSync(tmp, 'w', 0o644);
    let total = 0;
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        total += chunk.length;
        if (total > MAX_MODULE_BYTES) throw new PullError('ErrImagePull', `fetching ${url}: larger than ${MAX_MODULE_BYTES >> 20} MiB`);
        hash.update(chunk);
        fs.writeSync(fd, chunk);
      }
    } catch (err) {
      fs.closeSync(fd);
      fs.rmSync(tmp, { force: true });
      throw err instanceof PullError ? err : new PullError('ErrImagePull', `fetching ${url}: ${(err as Error).message}`);
    }
    fs.closeSync(fd);
    const got = hash.digest('hex');
    if (got !== want) {
      fs.rmSync(tmp, { force: true });
      throw new PullError('ErrImagePull', `module ${url}: digest mismatch: the image names sha256:${want}, the server sent sha256:${got} (${total} bytes); not used`);
    }
    fs.renameSync(tmp, file);
    return file;
  }
}

/**
 * The WASI test module (test/fixtures/wasi/hello.ts), compiled with the AssemblyScript devDependency as
 * MACHINE-NOTES describes (`--runtime stub --use abort=`: no abort import, a ~6 KB preview1 command). It is
 * compiled once per machine and source version, into the OS temp dir (`skiff-test-cache/wasi/`), by
 * whichever test asks first; the file appears whole (temp file + rename), so test files racing are fine.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { root } from './procs.js';

const run = promisify(execFile);
const source = path.join(root, 'test', 'fixtures', 'wasi', 'hello.ts');

/** The cache dir of compiled test fixtures. */
export const fixtureCache = path.join(os.tmpdir(), 'skiff-test-cache', 'wasi');

/** The path of hello.wasm, compiling it first when this source version has not been compiled yet. */
export async function helloWasm(): Promise<string> {
  const text = fs.readFileSync(source);
  const file = path.join(fixtureCache, `hello-${createHash('sha256').update(text).digest('hex').slice(0, 16)}.wasm`);
  if (fs.existsSync(file)) return file;
  fs.mkdirSync(fixtureCache, { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  const asc = path.join(root, 'node_modules', 'assemblyscript', 'bin', 'asc.js');
  await run(process.execPath, [asc, source, '-o', tmp, '--runtime', 'stub', '--use', 'abort=', '-O2'], { cwd: root, timeout: 120_000 });
  fs.renameSync(tmp, file);
  return file;
}

/** The sha256 of a file, hex (what a module URL's #sha256= names). */
export function sha256Of(file: string): string {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

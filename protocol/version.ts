/** Skiff's version, read once from the package.json above this file (works from source and from dist/). */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The directory of Skiff's package.json (the repository or installed package root). */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const p = join(dir, 'package.json');
    if (existsSync(p) && JSON.parse(readFileSync(p, 'utf8')).name === 'skiff') return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot find the skiff package.json above ' + fileURLToPath(import.meta.url));
    dir = up;
  }
}

let cached: string | undefined;

/** The package version, e.g. `0.1.0`. */
export function skiffVersion(): string {
  cached ??= String(JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')).version);
  return cached;
}

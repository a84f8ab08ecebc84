/** The client's version, read from the package.json above this file (works from cli/ and dist/cli/). */
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

/** `v0.1.0`. */
export function clientVersion(): string {
  return 'v' + JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')).version;
}

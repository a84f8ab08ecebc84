// Copies non-TypeScript assets (the compiled engine) next to the compiled JavaScript in dist/.
import { cpSync, existsSync, mkdirSync } from 'node:fs';
const from = new URL('../core-wasm/build/', import.meta.url);
const to = new URL('../dist/core-wasm/build/', import.meta.url);
if (existsSync(from)) {
  mkdirSync(to, { recursive: true });
  cpSync(from, to, { recursive: true });
}

// Builds the dashboard (master/dashboard/ui/) into dist/master/dashboard/public/: type-checks it with its own
// tsconfig (browser DOM types), bundles it with esbuild (minified ESM, hashed names, xterm.js in a lazy
// chunk), writes index.html pointing at the hashed files, and prints the gzipped sizes.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { gzipSync } from 'node:zlib';
import * as esbuild from 'esbuild';

const root = new URL('../', import.meta.url).pathname;
const ui = `${root}master/dashboard/ui`;
const out = `${root}dist/master/dashboard/public`;

try {
  execFileSync(process.execPath, [`${root}node_modules/typescript/bin/tsc`, '-p', `${ui}/tsconfig.json`], { stdio: 'inherit' });
} catch {
  console.error('dashboard: type errors (above)');
  process.exit(1);
}

rmSync(out, { recursive: true, force: true });
mkdirSync(`${out}/assets`, { recursive: true });
const result = await esbuild.build({
  entryPoints: { app: `${ui}/main.ts` },
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'browser',
  target: ['es2020'],
  minify: true,
  legalComments: 'none',
  outdir: `${out}/assets`,
  entryNames: '[name]-[hash]',
  chunkNames: 'chunk-[hash]',
  assetNames: '[name]-[hash]',
  define: { 'process.env.NODE_ENV': '"production"' },
  metafile: true,
  logLevel: 'warning',
});

const outputs = Object.entries(result.metafile.outputs);
const entry = outputs.find(([, o]) => o.entryPoint?.endsWith('main.ts'));
const js = basename(entry[0]);
const css = entry[1].cssBundle ? basename(entry[1].cssBundle) : undefined;
const html = readFileSync(`${ui}/index.html`, 'utf8').replace('__JS__', js).replace(css ? '__CSS__' : /<link rel="stylesheet"[^>]*>\n/, css ?? '');
writeFileSync(`${out}/index.html`, html);

// What the first page load fetches: index.html, the entry, its CSS and the chunks it imports statically.
const initial = new Set([entry[0], ...(css ? [entry[1].cssBundle] : []), ...entry[1].imports.filter((i) => i.kind === 'import-statement').map((i) => i.path)]);
let total = 0;
let first = gzipSync(html).length;
for (const [file] of outputs) {
  const gz = gzipSync(readFileSync(`${root}${file}`), { level: 9 }).length;
  total += gz;
  if (initial.has(file)) first += gz;
  console.log(`  ${basename(file).padEnd(28)} ${(gz / 1024).toFixed(1).padStart(7)} KiB gzipped${initial.has(file) ? '' : ' (loaded on demand)'}`);
}
console.log(`dashboard: ${(total / 1024).toFixed(1)} KiB gzipped in all, ${(first / 1024).toFixed(1)} KiB on first load → ${out}`);

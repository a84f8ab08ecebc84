// npm run build:agent: the agent as one file, dist/skiff-agent.mjs (docs/edge.md, "The bundle").
//   node scripts/build-agent.mjs [--outfile FILE] [--version V] [--no-minify]
// One ESM file for Node 18+, no native addons, no node_modules: the engine's wasm is inside (core-wasm/embedded.ts
// is replaced by its bytes), the version is built in (edge-agent/version.ts) and declared in a header line that the
// master reads without running the file (protocol/bundle.ts). Optional native helpers of dependencies are left out
// (external): each is loaded inside a try/catch by the package that wants it, and the agent runs without them.
import { readFileSync, statSync, existsSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { isBuiltin } from 'node:module';
import { parseArgs } from 'node:util';
import * as esbuild from 'esbuild';

const root = new URL('..', import.meta.url).pathname;
const { values } = parseArgs({ options: { outfile: { type: 'string' }, version: { type: 'string' }, 'no-minify': { type: 'boolean' }, quiet: { type: 'boolean' }, sizes: { type: 'boolean' } } });
const outfile = values.outfile ?? `${root}dist/skiff-agent.mjs`;
const version = values.version ?? process.env.SKIFF_AGENT_VERSION ?? JSON.parse(readFileSync(`${root}package.json`, 'utf8')).version;
if (!/^[0-9A-Za-z][0-9A-Za-z._+-]{0,63}$/.test(version)) throw new Error(`--version: must be 1–64 of A–Z a–z 0–9 . _ + -, got "${version}"`);
const wasm = `${root}core-wasm/build/engine.wasm`;
if (!existsSync(wasm)) throw new Error(`${wasm} is missing: run npm run build:wasm first`);

/**
 * Optional native (or never-used) helpers of the agent's dependencies. Each is required inside a try/catch by its
 * package and has a pure-JS path: msgpackr-extract (msgpackr), bufferutil and utf-8-validate (ws, under mqtt),
 * supports-color (debug, under mqtt: colours for DEBUG output), ssh2 and cpu-features (dockerode's docker-modem, for
 * ssh:// Docker hosts only).
 */
export const optionalNative = ['msgpackr-extract', 'bufferutil', 'utf-8-validate', 'supports-color', 'ssh2', 'cpu-features'];

/** core-wasm/embedded.ts → the engine's bytes, so the bundle needs no .wasm beside it. */
const embedWasm = {
  name: 'embed-wasm',
  setup(build) {
    build.onLoad({ filter: /core-wasm[\\/]embedded\.ts$/ }, () => ({
      contents: `export const embeddedWasm = new Uint8Array(Buffer.from(${JSON.stringify(readFileSync(wasm).toString('base64'))}, 'base64'));`,
      loader: 'js',
    }));
  },
};

/**
 * Parts of mqtt.js the agent never uses, replaced by small stand-ins (≈ 300 KiB less to load on a board):
 * ws (ws:// transports: the agent speaks mqtt:// and mqtts://), socks (SOCKS proxies, never configured),
 * worker-timers (browser timers; on Node mqtt.js uses the native ones), and readable-stream (a copy of Node's
 * own stream module for browsers: Node's is the original). And dockerode's image builds with BuildKit sessions
 * (@grpc/grpc-js, @grpc/proto-loader, protobufjs: ≈ 800 KiB): the agent pulls and runs images, it never builds one.
 */
const noBuilds = "module.exports = new Proxy({}, { get(_, k) { if (typeof k === 'symbol' || k === '__esModule') return undefined; throw new Error('skiff-agent: image builds (BuildKit) are not built in'); } });";
const standIns = {
  ws: "module.exports = function WebSocket() { throw new Error('skiff-agent: ws:// transports are not built in'); };",
  socks: "exports.SocksClient = { createConnection() { throw new Error('skiff-agent: SOCKS proxies are not built in'); } };",
  'worker-timers': 'module.exports = { setInterval: (f, ms) => setInterval(f, ms), clearInterval: (t) => clearInterval(t), setTimeout: (f, ms) => setTimeout(f, ms), clearTimeout: (t) => clearTimeout(t) };',
  'readable-stream': "module.exports = require('node:stream');",
  '@grpc/grpc-js': noBuilds,
  '@grpc/proto-loader': noBuilds,
  protobufjs: noBuilds,
};
const standInPlugin = {
  name: 'stand-ins',
  setup(build) {
    const filter = new RegExp(`^(${Object.keys(standIns).join('|')})$`);
    build.onResolve({ filter }, (a) => ({ path: a.path, namespace: 'stand-in' }));
    build.onLoad({ filter: /.*/, namespace: 'stand-in' }, (a) => ({ contents: standIns[a.path], loader: 'js', resolveDir: root }));
  },
};

// Only the header comment and the createRequire shim come first: CommonJS dependencies bundled into ESM call
// require() for Node's built-ins, which an ES module does not have.
const banner = [
  '#!/usr/bin/env node',
  `// skiff-agent-bundle ${JSON.stringify({ version, format: 1 })}`,
  '// Skiff edge agent, one file (npm run build:agent). Run: node skiff-agent.mjs join --master mqtt://HOST:1883 --token-file FILE',
  "import { createRequire as __skiffCreateRequire } from 'node:module'; const require = __skiffCreateRequire(import.meta.url);",
].join('\n');

const minify = !values['no-minify'];
const result = await esbuild.build({
  entryPoints: [`${root}edge-agent/launch.ts`],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node18',
  // Whitespace and syntax only: identifiers keep their names, so a stack trace from a board still reads.
  minifyWhitespace: minify,
  minifySyntax: minify,
  legalComments: 'none',
  external: optionalNative,
  define: { __SKIFF_AGENT_VERSION__: JSON.stringify(version), __SKIFF_AGENT_BUNDLE__: 'true' },
  banner: { js: banner },
  plugins: [embedWasm, standInPlugin],
  metafile: true,
  logLevel: 'warning',
});

// A bundle that would need node_modules on the board is a build failure: every import left must be a built-in or optional.
const leftovers = new Set();
for (const out of Object.values(result.metafile.outputs))
  for (const imp of out.imports ?? []) if (imp.external && !imp.path.startsWith('node:') && !optionalNative.includes(imp.path) && !isBuiltin(imp.path)) leftovers.add(imp.path);
if (leftovers.size) throw new Error(`the bundle imports packages it does not contain: ${[...leftovers].join(', ')}`);


/** The package a bundled module comes from (`@scope/name` or `name`), undefined for the project's own files. */
function packageOf(input) {
  const tail = input.split('node_modules/').slice(1).pop();
  return tail === undefined ? undefined : tail.split('/').slice(0, tail.startsWith('@') ? 2 : 1).join('/');
}

if (!values.quiet) {
  const bytes = readFileSync(outfile);
  const packages = new Set(Object.keys(result.metafile.inputs).map(packageOf).filter((p) => p !== undefined));
  console.log(`${outfile}: skiff-agent ${version}, ${(statSync(outfile).size / 1024).toFixed(0)} KiB (${(gzipSync(bytes, { level: 9 }).length / 1024).toFixed(0)} KiB gzipped), ${Object.keys(result.metafile.inputs).length} modules from ${packages.size} packages: ${[...packages].sort().join(' ')}`);
}

// --sizes: what the bundle's bytes are made of, by package (node_modules) or by the project's top directory.
if (values.sizes) {
  const owner = (input) => packageOf(input) ?? (input.startsWith('stand-in:') ? 'stand-ins' : `${input.replace(/^(\.\.\/)+/, '').split('/')[0]}/ (project)`);
  const by = new Map();
  for (const out of Object.values(result.metafile.outputs))
    for (const [input, { bytesInOutput }] of Object.entries(out.inputs)) {
      const o = owner(input);
      by.set(o, (by.get(o) ?? 0) + bytesInOutput);
    }
  for (const [name, n] of [...by].sort((a, b) => b[1] - a[1])) console.log(`${(n / 1024).toFixed(1).padStart(8)} KiB  ${name}`);
}

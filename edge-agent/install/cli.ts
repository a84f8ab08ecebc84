/**
 * `skiff-agent flash`, `install` and `uninstall` (docs/edge.md, "Flash and install"):
 *   flash --rootfs DIR --master URL (--token T | --token-file F | SKIFF_JOIN_TOKEN) [--hostname H] [--labels k=v,...] [--bundle FILE]
 *   install --master URL (token as above) [--name N] [--labels k=v,...] [--bundle FILE] [--root DIR]
 *   uninstall [--purge] [--root DIR]
 * The bundle written is the one running (or --bundle; from a checkout, dist/skiff-agent.mjs).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { SkiffError } from '../../protocol/errors.js';
import { parseBundleHeader } from '../../protocol/bundle.js';
import { resolveOptions } from '../config.js';
import { readTokenFile } from '../join.js';
import { stopNode } from '../stop.js';
import { checkRootfs, nodeWarnings, removeBoard, writeBoard, type BoardSettings } from './board.js';
import { RootWriter } from './files.js';
import { boardPaths, UNIT_NAME } from './unit.js';

/** Where a command writes its lines. */
export interface InstallIO {
  out(line: string): void;
  err(line: string): void;
}

const quiet = { info() {}, warn() {}, error() {}, debug() {} };
const options = {
  rootfs: { type: 'string' }, root: { type: 'string' }, master: { type: 'string' }, token: { type: 'string' }, 'token-file': { type: 'string' },
  hostname: { type: 'string' }, name: { type: 'string' }, labels: { type: 'string' }, bundle: { type: 'string' }, purge: { type: 'boolean' },
} as const;
const allowed: Record<'flash' | 'install' | 'uninstall', string[]> = {
  flash: ['rootfs', 'master', 'token', 'token-file', 'hostname', 'labels', 'bundle'],
  install: ['root', 'master', 'token', 'token-file', 'name', 'labels', 'bundle'],
  uninstall: ['root', 'purge'],
};

type Values = { [K in keyof typeof options]?: (typeof options)[K]['type'] extends 'boolean' ? boolean : string };

function usage(msg: string): never {
  throw new SkiffError('SKIFF_ERR_BAD_REQUEST', msg);
}

/** Parses the flags of `cmd`; throws naming the flag. */
function flags(cmd: keyof typeof allowed, argv: string[]): Values {
  let values: Values;
  try {
    values = parseArgs({ args: argv, options, strict: true, allowPositionals: false }).values as Values;
  } catch (err) {
    usage((err as Error).message.split('\n')[0]);
  }
  for (const k of Object.keys(values)) if (!allowed[cmd].includes(k)) usage(`--${k} is not a flag of ${cmd}`);
  return values;
}

/** The labels flag: `k=v,k2=v2`. */
function labelsOf(s: string | undefined): Record<string, string> | undefined {
  if (s === undefined) return undefined;
  const out: Record<string, string> = {};
  for (const pair of s.split(',').filter(Boolean)) {
    const i = pair.indexOf('=');
    if (i <= 0) usage(`--labels: "${pair}" is not k=v`);
    out[pair.slice(0, i)] = pair.slice(i + 1);
  }
  return out;
}

/** The bundle to write: --bundle, else the running one, else a checkout's dist/skiff-agent.mjs. */
function bundleBytes(given: string | undefined, running: string | undefined): Buffer {
  const file = given ?? running ?? fileURLToPath(new URL('../../skiff-agent.mjs', import.meta.url));
  if (!existsSync(file)) usage(`no agent bundle at ${file}: build one with npm run build:agent, or give --bundle FILE`);
  const bytes = readFileSync(file);
  try {
    parseBundleHeader(bytes);
  } catch (err) {
    usage(`--bundle ${file}: ${(err as Error).message}`);
  }
  return bytes;
}

/** The settings of flash/install, checked by the agent's own option rules (so the board never gets a unit it refuses). */
async function settings(v: Values, env: NodeJS.ProcessEnv, running: string | undefined, name?: string): Promise<BoardSettings> {
  if (!v.master) usage('--master URL is required (the board has no LAN discovery at first boot in this setup), e.g. mqtt://192.168.1.10:1883');
  const sources = [v.token !== undefined && '--token', v['token-file'] !== undefined && '--token-file', env.SKIFF_JOIN_TOKEN && 'SKIFF_JOIN_TOKEN'].filter(Boolean);
  if (sources.length !== 1) usage(sources.length ? `give the join token one way, not ${sources.join(' and ')}` : 'a join token is required: --token-file FILE, --token T or SKIFF_JOIN_TOKEN');
  const token = v.token ?? (v['token-file'] ? await readTokenFile(v['token-file']) : env.SKIFF_JOIN_TOKEN!);
  const labels = labelsOf(v.labels);
  try {
    resolveOptions({ master: v.master, ...(name ? { name } : {}), ...(labels ? { labels } : {}), address: '127.0.0.1', logger: quiet });
  } catch (err) {
    const field = (err as SkiffError).details?.[0]?.field?.split('.')[0];
    const flag = field === 'name' ? (v.hostname ? '--hostname' : '--name') : field === 'labels' ? '--labels' : '--master';
    usage(`${flag}: ${(err as Error).message.replace(/^[\w.]+: /, '')}`);
  }
  if (name && !/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(name)) usage(`${v.hostname ? '--hostname' : '--name'}: must be a hostname (1–63 lowercase letters, digits and "-"), got "${name}"`);
  return { master: v.master, token, ...(labels ? { labels } : {}), ...(name ? { name } : {}), bundle: bundleBytes(v.bundle, running) };
}

function report(w: RootWriter, io: InstallIO): void {
  for (const c of w.changes) if (c.action !== 'unchanged') io.out(`${c.action} ${c.path}`);
}

/** `flash`: the board joins on first boot. */
export async function flash(argv: string[], env: NodeJS.ProcessEnv, running: string | undefined, io: InstallIO): Promise<number> {
  const v = flags('flash', argv);
  if (!v.rootfs) usage('--rootfs DIR is required: the mount point of the board\'s root partition');
  await checkRootfs(v.rootfs);
  const s = await settings(v, env, running, v.hostname);
  for (const w of await nodeWarnings(v.rootfs)) io.err(`warning: ${w}`);
  const w = new RootWriter(path.resolve(v.rootfs));
  await writeBoard(w, { ...s, ...(v.hostname ? { hostname: v.hostname } : {}) });
  report(w, io);
  const who = v.hostname ? `as "${v.hostname}"` : 'under its hostname';
  io.out(w.changed ? `flashed ${v.rootfs}: the board joins ${s.master} ${who} on first boot` : `unchanged: ${v.rootfs} already joins ${s.master} ${who} on first boot`);
  return 0;
}

/** True when systemd runs this machine (sd_booted(3)). */
function systemdRunning(): boolean {
  return existsSync('/run/systemd/system');
}

function systemctl(args: string[], io: InstallIO): void {
  io.out(`systemctl ${args.join(' ')}`);
  execFileSync('systemctl', args, { stdio: ['ignore', 'inherit', 'inherit'] });
}

/** `install`: the same on this machine, then systemd starts it. */
export async function install(argv: string[], env: NodeJS.ProcessEnv, running: string | undefined, io: InstallIO): Promise<number> {
  const v = flags('install', argv);
  const root = path.resolve(v.root ?? '/');
  const s = await settings(v, env, running, v.name);
  for (const w of await nodeWarnings(root)) io.err(`warning: ${w}`);
  const w = new RootWriter(root);
  await writeBoard(w, s);
  report(w, io);
  if (v.root !== undefined) io.out(`--root ${root}: not running systemctl`);
  else if (!systemdRunning()) io.out(`systemd is not running here: start the agent yourself (${boardPaths.node} ${boardPaths.bundle} join ...), or reboot into systemd`);
  else {
    systemctl(['daemon-reload'], io);
    systemctl(['enable', '--now', UNIT_NAME], io);
    // A new bundle or unit for a running agent: restart it (KillMode=process: pods stay and are adopted).
    if (w.changes.some((c) => c.action === 'updated' && (c.path === boardPaths.bundle || c.path === boardPaths.unit))) systemctl(['try-restart', UNIT_NAME], io);
  }
  io.out(w.changed ? `installed: this machine joins ${s.master}` : `unchanged: this machine already joins ${s.master}`);
  return 0;
}

/** `uninstall`: stops the agent and its pods, removes the unit and the bundle; `--purge` the token and data too. */
export async function uninstall(argv: string[], io: InstallIO): Promise<number> {
  const v = flags('uninstall', argv);
  const root = path.resolve(v.root ?? '/');
  if (v.root === undefined && systemdRunning() && existsSync(path.join(root, boardPaths.unit))) systemctl(['disable', '--now', UNIT_NAME], io);
  const dataDir = path.join(root, boardPaths.dataDir);
  if (existsSync(dataDir)) {
    const r = await stopNode(dataDir, { pods: true, timeoutMs: 30_000, log: { info: (m: string) => io.out(m), warn: (m: string) => io.err(m), error: (m: string) => io.err(m), debug() {} } });
    io.out(`stopped ${r.agentPid ? `the agent (pid ${r.agentPid}) and ` : ''}${r.pods} pod process(es)`);
  }
  const w = new RootWriter(root);
  await removeBoard(w, v.purge === true);
  if (v.root === undefined && systemdRunning()) systemctl(['daemon-reload'], io);
  report(w, io);
  io.out(w.changed ? `uninstalled${v.purge ? ' (token and data purged)' : ` (kept ${boardPaths.tokenFile} and ${boardPaths.dataDir}: --purge removes them)`}` : 'unchanged: nothing was installed');
  return 0;
}

/**
 * Writing the agent onto a board's root filesystem (`flash`) or onto this machine (`install`): the bundle, the join
 * token (0600, never in the unit), the data dir, the systemd unit and its `multi-user.target.wants` link, and with
 * a hostname /etc/hostname and the 127.0.1.1 line of /etc/hosts (Debian's convention for the host's own name).
 */
import { promises as fsp, readFileSync } from 'node:fs';
import path from 'node:path';
import { RootWriter } from './files.js';
import { boardPaths, unitText, type UnitSettings } from './unit.js';

/** What goes onto the board. */
export interface BoardSettings extends UnitSettings {
  token: string;
  /** The board's hostname; the node name then is this too (`--name` in the unit). */
  hostname?: string;
  bundle: Uint8Array;
}

/** The oldest Node the agent runs on. */
export const MIN_NODE_MAJOR = 18;

/** Refuses a directory that is not a root filesystem, naming what is missing (and the boot partition by name). */
export async function checkRootfs(dir: string): Promise<void> {
  const st = await fsp.stat(dir).catch(() => undefined);
  if (!st?.isDirectory()) throw new Error(`--rootfs ${dir}: not a directory`);
  const has = async (p: string) => (await fsp.stat(path.join(dir, p)).catch(() => undefined))?.isDirectory() === true;
  const missing = [];
  for (const d of ['etc', 'usr']) if (!(await has(d))) missing.push(`/${d}`);
  if (!missing.length) return;
  const boot = (await fsp.stat(path.join(dir, 'cmdline.txt')).catch(() => undefined)) || (await fsp.stat(path.join(dir, 'config.txt')).catch(() => undefined));
  throw new Error(`--rootfs ${dir}: not a root filesystem (no ${missing.join(', no ')})${boot ? ': this looks like the boot partition (cmdline.txt, config.txt); give the root partition, often mounted as …/rootfs' : ': give the mount point of the board\'s root partition'}`);
}

/** Warnings about the board's Node: missing, or older than MIN_NODE_MAJOR (read from dpkg's status, not run). */
export async function nodeWarnings(root: string): Promise<string[]> {
  const node = await fsp.lstat(path.join(root, boardPaths.node)).catch(() => undefined);
  if (!node) return [`the board has no ${boardPaths.node}: install Node.js ${MIN_NODE_MAJOR} or newer on it (apt install nodejs) or the agent cannot start`];
  let status = '';
  try {
    status = readFileSync(path.join(root, 'var/lib/dpkg/status'), 'utf8');
  } catch {
    return [];
  }
  const block = status.split('\n\n').find((b) => /^Package: nodejs$/m.test(b) && /^Status: install ok installed$/m.test(b));
  const version = block && /^Version: (?:\d+:)?(\d+)\.[^\n]*/m.exec(block);
  if (version && Number(version[1]) < MIN_NODE_MAJOR) return [`the board's Node.js is ${version[0].slice(9)}, older than ${MIN_NODE_MAJOR}: the agent needs Node.js ${MIN_NODE_MAJOR} or newer`];
  return [];
}

/** /etc/hosts with its 127.0.1.1 line naming `hostname` (replaced, or added after the localhost line). */
export function hostsWith(hosts: string, hostname: string): string {
  const line = `127.0.1.1\t${hostname}`;
  const lines = hosts.split('\n');
  const i = lines.findIndex((l) => /^127\.0\.1\.1\s/.test(l));
  if (i >= 0) lines[i] = line;
  else {
    const lo = lines.findIndex((l) => /^127\.0\.0\.1\s/.test(l));
    lines.splice(lo >= 0 ? lo + 1 : 0, 0, line);
  }
  const text = lines.join('\n');
  return text.endsWith('\n') ? text : text + '\n';
}

/** Writes everything; the writer records what changed. */
export async function writeBoard(w: RootWriter, s: BoardSettings): Promise<void> {
  await w.dir(boardPaths.libDir, 0o755);
  await w.file(boardPaths.bundle, s.bundle, 0o644);
  await w.dir(boardPaths.configDir, 0o700);
  await w.file(boardPaths.tokenFile, s.token + '\n', 0o600);
  await w.dir(boardPaths.dataDir, 0o700);
  await w.file(boardPaths.unit, unitText({ master: s.master, ...(s.hostname ? { name: s.hostname } : s.name ? { name: s.name } : {}), ...(s.labels ? { labels: s.labels } : {}) }), 0o644);
  await w.link(boardPaths.wants, boardPaths.unit);
  if (s.hostname) {
    await w.file(boardPaths.hostname, s.hostname + '\n', 0o644);
    const hosts = await fsp.readFile(w.at(boardPaths.hosts), 'utf8').catch(() => '127.0.0.1\tlocalhost\n');
    await w.file(boardPaths.hosts, hostsWith(hosts, s.hostname), 0o644);
  }
}

/** Removes what writeBoard wrote (the hostname stays); with `purge`, the token and the data dir too. */
export async function removeBoard(w: RootWriter, purge: boolean): Promise<void> {
  await w.remove(boardPaths.wants);
  await w.remove(boardPaths.unit);
  await w.remove(boardPaths.libDir);
  if (purge) {
    await w.remove(boardPaths.configDir);
    await w.remove(boardPaths.dataDir);
  }
}

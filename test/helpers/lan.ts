/**
 * A LAN on one machine for discovery tests: a bridge in its own network namespace and one namespace per
 * host joined to it by a veth pair (`eth0` inside), 10.x addresses only inside the namespaces made here, a
 * multicast route so mDNS flows, names unique per run. Unlike netns.ts (a star of point-to-point links for
 * partition tests, whose `requireNetns` and `relayInto` this reuses) every host shares one segment, which
 * multicast needs. `startAvahi` runs a real mDNS browser (avahi) inside a host: a private dbus-daemon and a
 * browse-only avahi-daemon in a private mount namespace (avahi hard-codes /run/avahi-daemon).
 * Missing tools fail with a clear message naming the Debian package; nothing is skipped.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { existsSync, mkdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deleteNamespaces, requireNetns } from './netns.js';

/** One host on the LAN. */
export interface LanHost {
  ns: string;
  address: string;
}

/** The bridge and its hosts, by the names given to `makeLan`. */
export interface Lan {
  hosts: Record<string, LanHost>;
  /** `ip netns exec NS` as a command prefix. */
  exec(ns: string): string[];
  /** Deletes every namespace made (links go with them). Safe to call twice. */
  destroy(): void;
}

const tools: [string, string][] = [
  ['ip', 'iproute2'],
  ['avahi-daemon', 'avahi-daemon'],
  ['avahi-browse', 'avahi-utils'],
  ['dbus-daemon', 'dbus'],
  ['unshare', 'util-linux'],
];

/** Throws naming the missing Debian packages (CI installs them in .ci/run), or when namespaces cannot be made. */
export function requireLanTools(): void {
  const missing = tools.filter(([cmd]) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status !== 0);
  if (missing.length)
    throw new Error(`LAN discovery tests need ${missing.map(([c, p]) => `${c} (apt-get install ${p})`).join(', ')}; .ci/run installs them`);
  requireNetns();
}

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Makes a bridge namespace and one host namespace per name, addresses 10.<run>.0.<i>/24. */
export function makeLan(names: string[]): Lan {
  const run = `${process.pid % 10000}${randomInt(100, 999)}`;
  const octet = randomInt(16, 250);
  const made: string[] = [];
  const lan: Lan = {
    hosts: {},
    exec: (ns) => ['ip', 'netns', 'exec', ns],
    destroy() {
      deleteNamespaces(made);
    },
  };
  try {
    const br = `skl${run}br`;
    ip('netns', 'add', br);
    made.push(br);
    ip('-n', br, 'link', 'add', 'br0', 'type', 'bridge');
    ip('-n', br, 'link', 'set', 'br0', 'up');
    names.forEach((name, i) => {
      const ns = `skl${run}${name}`;
      ip('netns', 'add', ns);
      made.push(ns);
      ip('-n', ns, 'link', 'set', 'lo', 'up');
      const port = `p${i}`;
      ip('-n', br, 'link', 'add', port, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns);
      ip('-n', br, 'link', 'set', port, 'master', 'br0');
      ip('-n', br, 'link', 'set', port, 'up');
      const address = `10.${octet}.0.${i + 1}`;
      ip('-n', ns, 'addr', 'add', `${address}/24`, 'dev', 'eth0');
      ip('-n', ns, 'link', 'set', 'eth0', 'up');
      // mDNS (224.0.0.251) needs a route: these namespaces have no default route.
      ip('-n', ns, 'route', 'add', '224.0.0.0/4', 'dev', 'eth0');
      lan.hosts[name] = { ns, address };
    });
  } catch (err) {
    lan.destroy();
    throw err;
  }
  return lan;
}

/** One resolved DNS-SD instance as avahi-browse prints it (`=` lines of `-rtp`). */
export interface Resolved {
  name: string;
  type: string;
  host: string;
  address: string;
  port: number;
  txt: Record<string, string>;
}

/** A running avahi browser in one namespace. */
export interface Avahi {
  /** One `avahi-browse -rtp TYPE` run (cache + a fresh query), its resolved instances. */
  browse(type: string, timeoutMs?: number): Resolved[];
  stop(): Promise<void>;
}

/** Decodes avahi's parsable escapes: `\032` is a space, `\.` a dot. */
const unescape = (s: string) => s.replace(/\\(\d{3})/g, (_m, d: string) => String.fromCharCode(Number(d))).replace(/\\(.)/g, '$1');

/** Parses `avahi-browse -p` output into resolved instances (fields split on unescaped `;`). */
export function parseAvahi(out: string): Resolved[] {
  const rows: Resolved[] = [];
  for (const line of out.split('\n')) {
    if (!line.startsWith('=;')) continue;
    const f = line.split(/(?<!\\);/);
    const txt: Record<string, string> = {};
    for (const m of (f[9] ?? '').matchAll(/"([^"=]*)=([^"]*)"/g)) txt[m[1]] = m[2];
    rows.push({ name: unescape(f[3]), type: f[4], host: f[6], address: f[7], port: Number(f[8]), txt });
  }
  return rows;
}

/** Starts dbus + avahi (browse only, IPv4, on eth0) inside `ns`, files under `dir`; resolves once avahi answers. */
export async function startAvahi(ns: string, dir: string): Promise<Avahi> {
  const d = join(dir, `avahi-${ns}`);
  mkdirSync(join(d, 'run'), { recursive: true });
  const bus = `unix:path=${d}/bus.sock`;
  writeFileSync(
    join(d, 'dbus.conf'),
    `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN" "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig><listen>${bus}</listen><auth>EXTERNAL</auth>
<policy context="default"><allow user="*"/><allow own="*"/><allow send_destination="*"/><allow receive_sender="*"/></policy></busconfig>\n`,
  );
  writeFileSync(
    join(d, 'avahi.conf'),
    `[server]\nhost-name=browser-${ns}\nuse-ipv4=yes\nuse-ipv6=no\nallow-interfaces=eth0\nenable-dbus=yes\n[wide-area]\nenable-wide-area=no\n[publish]\ndisable-publishing=yes\ndisable-user-service-publishing=yes\n[reflector]\nenable-reflector=no\n[rlimits]\n`,
  );
  const procs: ChildProcess[] = [];
  // The bind mount needs a mount point; avahi never writes to the real one.
  const madeRunDir = !existsSync('/run/avahi-daemon');
  if (madeRunDir) mkdirSync('/run/avahi-daemon', { recursive: true });
  const stop = async () => {
    for (const p of procs.reverse()) {
      if (p.exitCode !== null || p.signalCode !== null) continue;
      const gone = new Promise<void>((r) => p.once('exit', () => r()));
      p.kill('SIGTERM');
      const t = setTimeout(() => p.kill('SIGKILL'), 3000);
      await gone;
      clearTimeout(t);
    }
    if (madeRunDir) {
      try {
        rmdirSync('/run/avahi-daemon');
      } catch {
        // another browser still uses it as its mount point
      }
    }
  };
  procs.push(spawn('ip', ['netns', 'exec', ns, 'dbus-daemon', `--config-file=${d}/dbus.conf`, '--nofork', '--nopidfile'], { stdio: 'ignore' }));
  await until(() => existsSync(`${d}/bus.sock`), 5000, `dbus-daemon in ${ns}`).catch(async (err) => {
    await stop();
    throw err;
  });
  const script = 'mount --bind "$1" /run/avahi-daemon && exec avahi-daemon -f "$2" --no-drop-root --no-chroot --no-rlimits --no-proc-title';
  procs.push(
    spawn('ip', ['netns', 'exec', ns, 'env', `DBUS_SYSTEM_BUS_ADDRESS=${bus}`, 'unshare', '-m', '--propagation', 'private', 'sh', '-c', script, 'sh', `${d}/run`, `${d}/avahi.conf`], { stdio: 'ignore' }),
  );
  const browseRaw = (type: string, timeoutMs: number) =>
    spawnSync('ip', ['netns', 'exec', ns, 'env', `DBUS_SYSTEM_BUS_ADDRESS=${bus}`, 'timeout', String(timeoutMs / 1000), 'avahi-browse', '-rtp', type], { encoding: 'utf8' });
  try {
    await until(() => browseRaw('_skiff-ready._tcp', 2000).status === 0, 10_000, `avahi-daemon in ${ns}`);
  } catch (err) {
    await stop();
    throw err;
  }
  return { browse: (type, timeoutMs = 3000) => parseAvahi(browseRaw(type, timeoutMs).stdout ?? ''), stop };
}

async function until(fn: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!fn()) {
    if (Date.now() > deadline) throw new Error(`${what} did not come up within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

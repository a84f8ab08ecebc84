/**
 * Several hosts on one machine for partition tests: a hub namespace (the master) linked to one
 * namespace per agent by a veth pair, 10.x addresses only inside the namespaces made here, names unique
 * per run. `cut`/`heal` set the agent end of a link down/up (`ip link set ... down`), as a pulled cable.
 * Needs root and iproute2 (CI runs as root and .ci/run installs iproute2); `requireNetns` fails with a
 * clear message otherwise, never skipping silently.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { connect, createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { randomInt } from 'node:crypto';

/** One agent host: its namespace, its address, and the master's address as seen from it. */
export interface NetHost {
  ns: string;
  address: string;
  masterAddress: string;
  /** The veth end inside the host's namespace (the one `cut` takes down). */
  dev: string;
}

/** The hub and its hosts. */
export interface NetLab {
  hub: string;
  hosts: NetHost[];
  /** `ip netns exec NS` as a command prefix. */
  exec(ns: string): string[];
  cut(host: NetHost): void;
  heal(host: NetHost): void;
  /** Deletes every namespace made (links go with them). Safe to call twice. */
  destroy(): void;
}

function ip(...args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Throws a clear error when network namespaces cannot be made here (not root, no iproute2). */
export function requireNetns(): void {
  const probe = `skiffprobe${process.pid}`;
  try {
    ip('netns', 'add', probe);
    ip('netns', 'del', probe);
  } catch (err) {
    const e = err as { stderr?: Buffer | string; message: string };
    throw new Error(
      `partition tests need network namespaces: "ip netns add" failed (${String(e.stderr ?? e.message).trim()}). ` +
        'Run as root with iproute2 installed (CI does: .ci/run installs iproute2).',
    );
  }
}

/** Deletes the namespaces a helper made, newest first (empties the list; ones already gone are fine). */
export function deleteNamespaces(made: string[]): void {
  for (const ns of made.splice(0).reverse()) {
    try {
      execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
    } catch {
      // already gone
    }
  }
}

/** Makes a hub namespace and `count` host namespaces, each linked to the hub by its own /30-ish subnet. */
export function makeNetLab(count: number): NetLab {
  const run = `${process.pid % 100000}${randomInt(100, 999)}`;
  const octet = randomInt(16, 250); // 10.<octet>.<i>.0/24, picked per run so parallel runs do not meet
  const hub = `skh${run}`;
  const made: string[] = [];
  const lab: NetLab = {
    hub,
    hosts: [],
    exec: (ns) => ['ip', 'netns', 'exec', ns],
    cut(h) {
      ip('-n', h.ns, 'link', 'set', h.dev, 'down');
    },
    heal(h) {
      ip('-n', h.ns, 'link', 'set', h.dev, 'up');
    },
    destroy() {
      deleteNamespaces(made);
    },
  };
  try {
    ip('netns', 'add', hub);
    made.push(hub);
    ip('-n', hub, 'link', 'set', 'lo', 'up');
    for (let i = 1; i <= count; i++) {
      const ns = `skn${run}${i}`;
      ip('netns', 'add', ns);
      made.push(ns);
      ip('-n', ns, 'link', 'set', 'lo', 'up');
      // Interface names must fit in 15 characters.
      const hubDev = `vh${run}${i}`.slice(0, 15);
      const dev = `vn${run}${i}`.slice(0, 15);
      ip('link', 'add', hubDev, 'netns', hub, 'type', 'veth', 'peer', 'name', dev, 'netns', ns);
      const masterAddress = `10.${octet}.${i}.1`;
      const address = `10.${octet}.${i}.2`;
      ip('-n', hub, 'addr', 'add', `${masterAddress}/24`, 'dev', hubDev);
      ip('-n', ns, 'addr', 'add', `${address}/24`, 'dev', dev);
      ip('-n', hub, 'link', 'set', hubDev, 'up');
      ip('-n', ns, 'link', 'set', dev, 'up');
      lab.hosts.push({ ns, address, masterAddress, dev });
    }
  } catch (err) {
    lab.destroy();
    throw err;
  }
  return lab;
}

/**
 * A host alone: a namespace with nothing but its loopback up, for a program that takes fixed ports or
 * announces itself by mDNS (`skiff up`): nothing it does reaches the machine's network or collides with it.
 */
export function makeLonelyHost(): { ns: string; exec: string[]; destroy(): void } {
  const ns = `skiso${process.pid % 10000}${randomInt(100, 999)}`;
  const made = [ns];
  ip('netns', 'add', ns);
  try {
    ip('-n', ns, 'link', 'set', 'lo', 'up');
  } catch (err) {
    deleteNamespaces(made);
    throw err;
  }
  return { ns, exec: ['ip', 'netns', 'exec', ns], destroy: () => deleteNamespaces(made) };
}

/**
 * Makes `port` on 127.0.0.1 inside namespace `ns` reachable from the test process: a relay inside the
 * namespace listens on a Unix socket (the filesystem is shared, the network is not) and a local TCP
 * listener on an ephemeral loopback port forwards to it. Traffic stays on loopback and the socket file.
 */
export async function relayInto(ns: string, port: number, dir: string): Promise<{ port: number; close(): Promise<void> }> {
  const sock = join(dir, `relay-${ns}.sock`);
  const script = `const net=require('net');net.createServer(c=>{const u=net.connect(${port},'127.0.0.1');c.on('error',()=>u.destroy());u.on('error',()=>c.destroy());c.pipe(u).pipe(c)}).listen(${JSON.stringify(sock)},()=>console.log('ready'))`;
  const inner: ChildProcess = spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    inner.stdout!.once('data', () => resolve());
    inner.once('exit', (code) => reject(new Error(`the relay in ${ns} exited with ${code}`)));
  });
  const open = new Set<import('node:net').Socket>();
  const outer: Server = createServer((c) => {
    const u = connect(sock);
    open.add(c);
    c.on('close', () => open.delete(c));
    c.on('error', () => u.destroy());
    u.on('error', () => c.destroy());
    c.pipe(u).pipe(c);
  });
  await new Promise<void>((r) => outer.listen(0, '127.0.0.1', () => r()));
  return {
    port: (outer.address() as { port: number }).port,
    async close() {
      for (const c of open) c.destroy();
      await new Promise<void>((r) => outer.close(() => r()));
      inner.kill('SIGKILL');
    },
  };
}

/**
 * A private Podman for container tests: its own storage (graphroot, runroot), its own tmp dir, CNI config and
 * IPAM state under a temp dir, its Docker-compatible API service on a socket there, and its network namespace
 * (containers' bridge and published ports live in it, never on the machine's own network). Images are built
 * offline from Debian's busybox-static: a rootfs of /bin/busybox and its applet symlinks, imported with
 * `podman import --change 'CMD [...]'`. `stop` removes every container, stops the service and deletes it all.
 *
 * Flags this machine needs (MACHINE-NOTES.md): runc (crun fails on hybrid cgroups), ulimits within the missing
 * CAP_SYS_RESOURCE. Programs that must see the namespace's network run under `nsenter --net=...` (not
 * `ip netns exec`, which remounts /sys and hides the cgroup mounts runc needs).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomInt } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { promisify } from 'node:util';
import { deleteNamespaces } from './netns.js';
import { startRegistry, type Registry } from './registry.js';
import { eventually, tempDir } from './wait.js';

const run = promisify(execFile);

/** The applets the test images link to busybox. */
const applets = ['sh', 'ls', 'cat', 'echo', 'sleep', 'httpd', 'wget', 'nc', 'ip', 'hostname', 'id', 'env', 'nslookup', 'true', 'false', 'dd', 'head', 'tail', 'ps', 'kill', 'test', 'mkdir', 'touch', 'rm', 'tty', 'stty', 'printf', 'grep', 'seq', 'yes', 'timeout'];

/** A running private Podman. */
export interface Podman {
  /** `unix:///.../api.sock`: the agent's containerEndpoint. */
  endpoint: string;
  socket: string;
  /** The network namespace the engine (and its containers' bridge) lives in. */
  ns: string;
  /** The command prefix that runs a program in that namespace. */
  nsenter: string[];
  dir: string;
  /** The test images: busybox (CMD sh) and httpd (busybox httpd -f -p 80 -h /www, serving "hello from busybox"). */
  images: { busybox: string; httpd: string };
  /** The private registry (startPodman({registry: true})), with the busybox image pushed as `<host>/skiff/busybox:1`. */
  registry?: Registry;
  /** Runs the podman CLI against the same storage; resolves with stdout. */
  cli(...args: string[]): Promise<string>;
  /** The environment the podman CLI needs (its config files). */
  env: NodeJS.ProcessEnv;
  stop(): Promise<void>;
}

/** Throws a clear error when this machine cannot run the tests' Podman (not root, no podman/runc/busybox). */
export function requirePodman(): void {
  const missing = [['/usr/bin/podman', 'podman'], ['/usr/sbin/runc', 'runc'], ['/bin/busybox', 'busybox-static']].filter(([p]) => !fs.existsSync(p) && !fs.existsSync(p.replace('/usr/sbin/', '/usr/bin/')));
  if (missing.length || process.getuid?.() !== 0)
    throw new Error(`container tests need root and ${missing.map(([, pkg]) => pkg).join(', ') || 'the packages'} (CI: .ci/run installs podman runc busybox-static)`);
}

function writeConfig(dir: string, insecure: string[] = []): NodeJS.ProcessEnv {
  const conf = path.join(dir, 'containers.conf');
  fs.mkdirSync(path.join(dir, 'cni'), { recursive: true });
  fs.writeFileSync(
    conf,
    `[containers]\ndefault_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]\n` +
      `[engine]\nruntime = "runc"\ncgroup_manager = "cgroupfs"\ntmp_dir = "${dir}/tmp"\nevents_logger = "file"\nevents_logfile_path = "${dir}/events.log"\n` +
      `[network]\nnetwork_backend = "cni"\nnetwork_config_dir = "${dir}/cni"\ndefault_network = "podman"\n`,
  );
  // The default network, with IPAM state under the temp dir (the packaged one keeps it in /var/lib/cni).
  fs.writeFileSync(
    path.join(dir, 'cni', '87-podman.conflist'),
    JSON.stringify({
      cniVersion: '0.4.0',
      name: 'podman',
      plugins: [
        { type: 'bridge', bridge: 'cni-podman0', isGateway: true, ipMasq: true, hairpinMode: true, ipam: { type: 'host-local', dataDir: `${dir}/ipam`, routes: [{ dst: '0.0.0.0/0' }], ranges: [[{ subnet: '10.88.0.0/16', gateway: '10.88.0.1' }]] } },
        { type: 'portmap', capabilities: { portMappings: true } },
        { type: 'firewall' },
        { type: 'tuning' },
      ],
    }),
  );
  const storage = path.join(dir, 'storage.conf');
  fs.writeFileSync(storage, `[storage]\ndriver = "overlay"\ngraphroot = "${dir}/root"\nrunroot = "${dir}/run"\n`);
  // The test registry speaks plain HTTP: the engine must be told (an agent never is: it is the engine's config).
  const registries = path.join(dir, 'registries.conf');
  fs.writeFileSync(registries, `unqualified-search-registries = []\n${insecure.map((h) => `[[registry]]\nlocation = "${h}"\ninsecure = true\n`).join('')}`);
  return { ...process.env, CONTAINERS_CONF: conf, CONTAINERS_STORAGE_CONF: storage, CONTAINERS_REGISTRIES_CONF: registries };
}

/** A busybox rootfs tar: /bin/busybox, applet links, /www/index.html, /etc/passwd and group, empty /tmp. */
async function rootfsTar(dir: string): Promise<string> {
  const root = path.join(dir, 'rootfs');
  for (const d of ['bin', 'www', 'etc', 'tmp', 'proc', 'sys', 'dev', 'data']) fs.mkdirSync(path.join(root, d), { recursive: true });
  fs.chmodSync(path.join(root, 'tmp'), 0o1777);
  fs.copyFileSync('/bin/busybox', path.join(root, 'bin', 'busybox'));
  fs.chmodSync(path.join(root, 'bin', 'busybox'), 0o755);
  for (const a of applets) fs.symlinkSync('busybox', path.join(root, 'bin', a));
  fs.writeFileSync(path.join(root, 'www', 'index.html'), 'hello from busybox\n');
  fs.writeFileSync(path.join(root, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000:user:/tmp:/bin/sh\n');
  fs.writeFileSync(path.join(root, 'etc', 'group'), 'root:x:0:\nuser:x:1000:\n');
  const tar = path.join(dir, 'rootfs.tar');
  await run('tar', ['-C', root, '-cf', tar, '.']);
  return tar;
}

function ping(socket: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get({ socketPath: socket, path: '/_ping', timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
  });
}

/**
 * Starts a private Podman in a new network namespace (or `ns` when given) with the test images; with `registry`,
 * first a private registry in that namespace (test/helpers/registry.ts) holding the busybox image.
 */
export async function startPodman(o: { ns?: string; registry?: boolean } = {}): Promise<Podman> {
  requirePodman();
  const dir = await tempDir('skiff-podman-');
  const made: string[] = [];
  const ns = o.ns ?? `skpm${process.pid % 10000}${randomInt(100, 999)}`;
  if (!o.ns) {
    await run('ip', ['netns', 'add', ns]);
    made.push(ns);
    await run('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
  }
  const nsenter = ['nsenter', `--net=/run/netns/${ns}`];
  let registry: Registry | undefined;
  if (o.registry) registry = await startRegistry(dir, nsenter);
  const env = writeConfig(dir, registry ? [registry.host] : []);
  const cli = async (...args: string[]) => (await run(nsenter[0], [...nsenter.slice(1), 'podman', ...args], { env, cwd: dir, maxBuffer: 16 << 20 })).stdout;
  let service: ChildProcess | undefined;
  const stop = async () => {
    // Podman 4.3's `rm -a` stops at a sandbox others joined ("has dependent containers"): again until none is left.
    for (let i = 0; i < 4; i++) {
      await cli('rm', '-af', '-t', '0').catch(() => undefined);
      if (!(await cli('ps', '-aq').catch(() => '')).trim()) break;
    }
    if (service && service.exitCode === null) {
      const gone = new Promise((r) => service!.once('exit', r));
      service.kill('SIGTERM');
      await Promise.race([gone, new Promise((r) => setTimeout(r, 5000))]);
      service.kill('SIGKILL');
    }
    // Whatever a failed test left mounted under the temp dir (overlay roots, shm): deepest first, lazily.
    const mounts = fs.readFileSync('/proc/self/mounts', 'utf8').split('\n').map((l) => l.split(' ')[1]).filter((m) => m?.startsWith(dir + '/'));
    for (const m of mounts.sort((a, b) => b.length - a.length)) await run('umount', ['-l', m]).catch(() => undefined);
    await registry?.stop();
    deleteNamespaces(made);
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    const tar = await rootfsTar(dir);
    await cli('import', '--change', 'CMD ["/bin/sh"]', tar, 'localhost/busybox:test');
    await cli('import', '--change', 'CMD ["/bin/httpd", "-f", "-p", "80", "-h", "/www"]', tar, 'localhost/httpd:test');
    const socket = path.join(dir, 'api.sock');
    const log = fs.openSync(path.join(dir, 'service.log'), 'a');
    // cwd: conmon writes an `oom` marker file into its working directory when a container is OOM-killed.
    service = spawn(nsenter[0], [...nsenter.slice(1), 'podman', 'system', 'service', '--time=0', `unix://${socket}`], { env, cwd: dir, stdio: ['ignore', log, log] });
    fs.closeSync(log);
    await eventually(() => ping(socket), `podman API service on ${socket}`, 20_000, 50);
    if (registry) await cli('push', '--tls-verify=false', '--creds', `${registry.user}:${registry.password}`, 'localhost/busybox:test', `${registry.host}/skiff/busybox:1`);
    return { ...(registry ? { registry } : {}), endpoint: `unix://${socket}`, socket, ns, nsenter, dir, images: { busybox: 'localhost/busybox:test', httpd: 'localhost/httpd:test' }, cli, env, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

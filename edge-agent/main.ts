/**
 * The `skiff-agent` command:
 *   skiff-agent join [--master mqtts://HOST:8883] [--token-file FILE | --token JOIN_TOKEN] [--name NAME] [--data-dir DIR]
 *                    [--volume-dir DIR] [--labels k=v,...] [--address IP] [--lease-interval 2s] [--discovery-timeout 10s]
 *   skiff-agent stop [--data-dir DIR] [--pods] [--timeout 30s]
 *   skiff-agent image load FILE.tar [--container-endpoint URL] [--data-dir DIR]
 *   skiff-agent flash|install|uninstall ...   (install/cli.ts)
 * Without --master the master is found on the LAN by mDNS (`_skiff-master._tcp`). SIGTERM/SIGINT stop the
 * agent and leave its pods running (the next start adopts them); `stop --pods` empties the node.
 * Exit codes: 0 after a graceful stop, 1 on bad arguments or a failed join.
 */
import { SkiffError } from '../protocol/errors.js';
import { parseDuration } from '../protocol/duration.js';
import { bytes } from '../protocol/quantity.js';
import { resolveDataDir, type AgentOptions } from './config.js';
import { startAgent, type Agent } from './agent.js';
import { consoleLogger } from './log.js';
import { stopNode } from './stop.js';
import { loadImageArchive } from './drivers/container/image-load.js';
import { AGENT_VERSION } from './version.js';
import type { LaunchHost } from './launch.js';
import { restartProcess } from './upgrade/restart.js';
import { waitUntilRejoined } from './upgrade/commit.js';
import { flash, install, uninstall, type InstallIO } from './install/cli.js';

/** The help text. */
export const usage = `skiff-agent ${AGENT_VERSION}: runs Skiff pods on this board

Usage:
  skiff-agent join [--master mqtts://HOST:8883] [--token-file FILE | --token JOIN_TOKEN] [options]
  skiff-agent stop [--data-dir DIR] [--pods] [--timeout DUR]
  skiff-agent image load FILE.tar [--container-endpoint URL] [--data-dir DIR]
  skiff-agent flash --rootfs DIR --master URL --token-file FILE [--hostname H] [--labels k=v,...] [--bundle FILE]
  skiff-agent install --master URL --token-file FILE [--name N] [--labels k=v,...] [--bundle FILE] [--root DIR]
  skiff-agent uninstall [--purge] [--root DIR]

join options:
  --master URL           the master's MQTT-over-TLS address, e.g. mqtts://192.168.1.10:8883 (the join token
                         pins its CA); mqtt://127.0.0.1:1883 for a master on this machine
                         (default: find the master on the LAN by mDNS, _skiff-master._tcp)
  --discovery-timeout DUR  how long to look for the master on the LAN without --master (default 10s)
  --token-file FILE      a file holding the join token (needed on the first join, or after the node was
                         deleted); read when needed, never kept in memory. Or set SKIFF_JOIN_TOKEN.
  --token TOKEN          the join token on the command line (visible in ps to every user: prefer --token-file)
  --name NAME            node name (default: the hostname, lowercased and DNS-safe)
  --data-dir DIR         where the credential, desired-set cache, pid files and logs live (default ~/.skiff/agent)
  --volume-dir DIR       where local-path PersistentVolumes of this node live (default DATA/volumes)
  --labels k=v,...       node labels
  --address IP           the node's InternalIP (default: the first non-internal IPv4 address)
  --lease-interval DUR   the shortest heartbeat period, e.g. 2s or 500ms (default 2s); a master with a lease
                         budget may assign a longer one to a large fleet (up to 10s), which the agent follows
  --container-endpoint URL  the container engine's Docker API, e.g. unix:///run/podman/podman.sock (default:
                         $DOCKER_HOST, /var/run/docker.sock, /run/podman/podman.sock; "none" turns containers off)
  --pod-network MODE     auto (default), bridge or host: how container pods get their network (docs/networking.md)
  --pod-max-pids N       the most processes and threads one pod may have (its cgroup's pids.max; default 4096,
                         0 = unlimited)
  --container-log-max-size Q   rotate a container's log past this size, e.g. 10Mi (default 10Mi, as the kubelet)
  --container-log-max-files N  log files kept per container, the current one included (default 5, at least 2)
  --wasi-node PATH       the node that runs WASI modules (default: the agent's own node; an agent run under an
                         emulator or a wrapper names an executable that starts node)

stop options (stops the agent running on DIR; its pods keep running unless --pods):
  --data-dir DIR         the agent's data dir (default ~/.skiff/agent)
  --pods                 also stop every pod process, each with its grace period: the node is empty afterwards
  --timeout DUR          how long the agent may take to stop before it is killed (default 30s)

image load (images for boards without a registry: what docker save / podman save write):
  --container-endpoint URL  the engine to load into (default: the one the agent on --data-dir uses)

flash writes the agent (this bundle, or --bundle), the join token (0600), a systemd unit and its
multi-user.target.wants link into a mounted board root filesystem (and /etc/hostname with --hostname): the
board joins on first boot. A second run changes nothing. install does the same on this machine and starts
the unit (systemctl enable --now); --root writes under DIR instead and runs no systemctl. The join token may
also be given as --token T or SKIFF_JOIN_TOKEN. uninstall stops the agent and its pods and removes the unit
and the bundle; --purge also removes the token and the data dir.

SIGTERM or SIGINT stop a running agent and leave its pods running: the next start adopts them.

  -h, --help             this text
`;

/** A command-line mistake: printed with the usage hint, exit 1. */
export class UsageError extends Error {}

/** A parsed command line. */
export type Command =
  | { cmd: 'help' }
  | { cmd: 'join'; options: AgentOptions }
  | { cmd: 'stop'; dataDir: string; pods: boolean; timeoutMs: number }
  | { cmd: 'image-load'; file: string; dataDir: string; endpoint?: string };

const valued = ['--master', '--token', '--token-file', '--name', '--data-dir', '--volume-dir', '--labels', '--address', '--lease-interval', '--discovery-timeout', '--timeout', '--pod-max-pids', '--wasi-node', '--container-log-max-size', '--container-log-max-files', '--container-endpoint', '--pod-network'] as const;
type Valued = (typeof valued)[number];
const flagsOf = {
  join: ['--master', '--token', '--token-file', '--name', '--data-dir', '--volume-dir', '--labels', '--address', '--lease-interval', '--discovery-timeout', '--pod-max-pids', '--wasi-node', '--container-log-max-size', '--container-log-max-files', '--container-endpoint', '--pod-network'],
  stop: ['--data-dir', '--pods', '--timeout'],
  image: ['--data-dir', '--container-endpoint'],
};

/** Reads `--flag value`, `--flag=value` and boolean flags; throws UsageError naming the flag. */
function readFlags(rest: string[], allowed: string[]): { v: Partial<Record<Valued, string>>; set: Set<string> } {
  const v: Partial<Record<Valued, string>> = {};
  const set = new Set<string>();
  for (let i = 0; i < rest.length; i++) {
    let flag = rest[i];
    let value: string | undefined;
    const eq = flag.indexOf('=');
    if (flag.startsWith('--') && eq > 0) {
      value = flag.slice(eq + 1);
      flag = flag.slice(0, eq);
    }
    if (!allowed.includes(flag)) throw new UsageError(`unknown flag ${flag}`);
    set.add(flag);
    if (!(valued as readonly string[]).includes(flag)) continue;
    if (value === undefined) {
      value = rest[++i];
      if (value === undefined || value.startsWith('--')) throw new UsageError(`${flag} needs a value`);
    }
    v[flag as Valued] = value;
  }
  return { v, set };
}

function duration(flag: string, value: string | undefined, example: string): number | undefined {
  if (value === undefined) return undefined;
  const ms = parseDuration(value);
  if (!ms) throw new UsageError(`${flag} must be a duration like ${example}, got "${value}"`);
  return ms;
}

/**
 * Parses the command line into a command; throws UsageError naming the flag. The join token comes from
 * --token-file, --token or `env.SKIFF_JOIN_TOKEN` (at most one of them).
 */
export function parseArgs(argv: string[], env: Record<string, string | undefined> = {}): Command {
  if (argv.includes('--help') || argv.includes('-h') || argv.length === 0) return { cmd: 'help' };
  const [cmd, ...rest] = argv;
  if (cmd === 'image') return parseImage(rest);
  if (cmd !== 'join' && cmd !== 'stop') throw new UsageError(`unknown command "${cmd}" (expected: join, stop, image, flash, install or uninstall)`);
  const { v, set } = readFlags(rest, flagsOf[cmd]);
  if (cmd === 'stop') return { cmd, dataDir: resolveDataDir(v['--data-dir']), pods: set.has('--pods'), timeoutMs: duration('--timeout', v['--timeout'], '30s or 1m') ?? 30_000 };
  if (v['--master'] !== undefined && !/^mqtts?:\/\/[^/\s:]+(:\d+)?\/?$/.test(v['--master'])) throw new UsageError(`--master must look like mqtt://HOST:PORT, got "${v['--master']}"`);
  // Without --master, startAgent browses the LAN for one (mDNS).
  const options: AgentOptions = v['--master'] !== undefined ? { master: v['--master'] } : {};
  const sources = [v['--token'] !== undefined && '--token', v['--token-file'] !== undefined && '--token-file', env.SKIFF_JOIN_TOKEN && 'SKIFF_JOIN_TOKEN'].filter(Boolean);
  if (sources.length > 1) throw new UsageError(`give the join token one way, not ${sources.join(' and ')}`);
  if (v['--token'] !== undefined) options.token = v['--token'];
  if (v['--token-file'] !== undefined) options.tokenFile = v['--token-file'];
  if (env.SKIFF_JOIN_TOKEN) options.token = env.SKIFF_JOIN_TOKEN;
  if (v['--name'] !== undefined) options.name = v['--name'];
  if (v['--data-dir'] !== undefined) options.dataDir = v['--data-dir'];
  if (v['--volume-dir'] !== undefined) options.volumeDir = v['--volume-dir'];
  if (v['--address'] !== undefined) options.address = v['--address'];
  if (v['--labels'] !== undefined) {
    options.labels = {};
    for (const pair of v['--labels'].split(',').filter(Boolean)) {
      const i = pair.indexOf('=');
      if (i <= 0) throw new UsageError(`--labels: "${pair}" is not k=v`);
      options.labels[pair.slice(0, i)] = pair.slice(i + 1);
    }
  }
  const lease = duration('--lease-interval', v['--lease-interval'], '2s or 500ms');
  if (lease !== undefined) options.leaseIntervalMs = lease;
  const discovery = duration('--discovery-timeout', v['--discovery-timeout'], '10s or 500ms');
  if (discovery !== undefined) options.discoveryTimeoutMs = discovery;
  const endpoint = v['--container-endpoint'];
  if (endpoint !== undefined) options.containerEndpoint = endpoint === 'none' ? false : endpoint;
  const net = v['--pod-network'];
  if (net !== undefined) {
    if (net !== 'auto' && net !== 'bridge' && net !== 'host') throw new UsageError(`--pod-network must be auto, bridge or host, got "${net}"`);
    options.podNetwork = net;
  }
  if (v['--pod-max-pids'] !== undefined) {
    if (!/^\d+$/.test(v['--pod-max-pids'])) throw new UsageError(`--pod-max-pids must be an integer ≥ 0, got "${v['--pod-max-pids']}"`);
    options.podPidsLimit = Number(v['--pod-max-pids']);
  }
  if (v['--wasi-node'] !== undefined) options.wasiNode = [v['--wasi-node']];
  const logSize = v['--container-log-max-size'];
  if (logSize !== undefined) {
    const b = bytes(logSize);
    if (!b || b < 1024) throw new UsageError(`--container-log-max-size must be a size of at least 1Ki, e.g. 10Mi, got "${logSize}"`);
    options.containerLogMaxBytes = b;
  }
  const logFiles = v['--container-log-max-files'];
  if (logFiles !== undefined) {
    if (!/^\d+$/.test(logFiles) || Number(logFiles) < 2) throw new UsageError(`--container-log-max-files must be an integer ≥ 2, got "${logFiles}"`);
    options.containerLogMaxFiles = Number(logFiles);
  }
  return { cmd, options };
}

/** `image load FILE.tar [--container-endpoint URL] [--data-dir DIR]`. */
function parseImage(rest: string[]): Command {
  const [sub, file, ...flags] = rest;
  if (sub !== 'load') throw new UsageError(`unknown image command "${sub ?? ''}" (expected: image load FILE.tar)`);
  if (!file || file.startsWith('--')) throw new UsageError('image load needs a file: skiff-agent image load FILE.tar');
  const { v } = readFlags(flags, flagsOf.image);
  return { cmd: 'image-load', file, dataDir: resolveDataDir(v['--data-dir']), ...(v['--container-endpoint'] ? { endpoint: v['--container-endpoint'] } : {}) };
}

/** The flag behind each option, so an option error names the flag the user typed. */
const flagOf: Record<string, string> = { master: '--master', token: '--token', tokenFile: '--token-file', name: '--name', dataDir: '--data-dir', labels: '--labels', address: '--address', leaseIntervalMs: '--lease-interval', podPidsLimit: '--pod-max-pids', wasiNode: '--wasi-node', containerLogMaxBytes: '--container-log-max-size', containerLogMaxFiles: '--container-log-max-files', containerEndpoint: '--container-endpoint', podNetwork: '--pod-network' };

/** Runs the command; resolves with the exit code once the agent has stopped. `host`: see launch.ts. */
export async function main(argv: string[], host: LaunchHost = { api: 1 }): Promise<number> {
  if (argv[0] === 'flash' || argv[0] === 'install' || argv[0] === 'uninstall') return installCommand(argv[0], argv.slice(1), host);
  let parsed: Command;
  try {
    parsed = parseArgs(argv, process.env);
    // Pods must not inherit the join token, and nothing later needs the variable.
    delete process.env.SKIFF_JOIN_TOKEN;
  } catch (err) {
    process.stderr.write(`skiff-agent: ${(err as Error).message}\nRun skiff-agent --help for usage.\n`);
    return 1;
  }
  if (parsed.cmd === 'help') {
    process.stdout.write(usage);
    return 0;
  }
  if (parsed.cmd === 'stop') return stop(parsed);
  if (parsed.cmd === 'image-load') return imageLoad(parsed);
  if (argv.includes('--token') || argv.some((a) => a.startsWith('--token='))) process.stderr.write('skiff-agent: warning: --token is visible to every user in ps for as long as the agent runs; prefer --token-file FILE or SKIFF_JOIN_TOKEN\n');
  return run(parsed.options, argv, host);
}

/**
 * Starts the agent and runs it until SIGTERM/SIGINT, then stops it and leaves its pods running (systemd's
 * restart and stop, an upgrade: the next start adopts them). The handlers are installed before the start, so a
 * signal during it stops the agent as soon as it is up, and they stay: a second signal (Ctrl-C in a terminal
 * reaches the whole process group, and a parent may forward SIGTERM too) never cuts the stop short.
 */
async function run(options: AgentOptions, argv: string[], host: LaunchHost): Promise<number> {
  let signalled: NodeJS.Signals | 'upgrade' | undefined;
  let stopNow = () => {};
  const onSignal = (sig: NodeJS.Signals) => {
    if (signalled) return void process.stderr.write(`skiff-agent: ${sig}: already stopping\n`);
    signalled = sig;
    process.stderr.write(`skiff-agent: ${sig}: disconnecting; pods keep running (the next start adopts them; skiff-agent stop --pods stops them)\n`);
    stopNow();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  let agent: Agent;
  try {
    agent = await startAgent({ ...options, ...(host.bundle ? { bundle: host.bundle } : {}) });
  } catch (err) {
    // Option checks name the option (flags map one-to-one); join failures carry the master's message.
    const field = err instanceof SkiffError && err.code === 'SKIFF_ERR_VALIDATION' ? (err.details?.[0]?.field ?? '').split('.')[0] : '';
    const msg = flagOf[field] ? `${flagOf[field]}: ${(err as Error).message}` : (err as Error).message;
    process.stderr.write(`skiff-agent: ${msg}\n`);
    return 1;
  }
  // An upgrade received (upgrade/receiver.ts): stop as on SIGTERM, then restart into the bundle (restart.ts).
  agent.once('restartRequested', () => {
    if (signalled) return;
    signalled = 'upgrade';
    process.stderr.write('skiff-agent: restarting for an upgrade; pods keep running (the next start adopts them)\n');
    stopNow();
  });
  if (host.trial) void waitUntilRejoined(agent, host.trial);
  await new Promise<void>((resolve) => {
    stopNow = resolve;
    if (signalled) resolve();
  });
  try {
    await agent.stop({ stopPods: false });
    if (signalled === 'upgrade' && host.bundle) return await restartProcess(host.bundle, argv, (l) => process.stderr.write(`skiff-agent: ${l}\n`));
    return 0;
  } catch (err) {
    process.stderr.write(`skiff-agent: stop: ${(err as Error).message}\n`);
    return 1;
  }
}

/** `skiff-agent stop`: see stop.ts. */
async function stop(c: Extract<Command, { cmd: 'stop' }>): Promise<number> {
  const log = consoleLogger();
  try {
    const r = await stopNode(c.dataDir, { pods: c.pods, timeoutMs: c.timeoutMs, log });
    const agent = r.agentPid ? `stopped skiff-agent (pid ${r.agentPid}${r.killed ? ', killed after --timeout' : ''})` : `no skiff-agent was running with data dir ${c.dataDir}`;
    process.stdout.write(`${agent}${c.pods ? `; stopped ${r.pods} pod process(es)` : ''}\n`);
    return 0;
  } catch (err) {
    process.stderr.write(`skiff-agent stop: ${(err as Error).message}\n`);
    return 1;
  }
}

/** `skiff-agent image load`: see drivers/container/image-load.ts. */
async function imageLoad(c: Extract<Command, { cmd: 'image-load' }>): Promise<number> {
  try {
    const r = await loadImageArchive(c.file, { endpoint: c.endpoint, dataDir: c.dataDir });
    process.stdout.write(r.images.length ? r.images.map((i) => `Loaded image: ${i}\n`).join('') : `loaded ${c.file} into ${r.engine}\n`);
    return 0;
  } catch (err) {
    process.stderr.write(`skiff-agent image load: ${(err as Error).message}\n`);
    return 1;
  }
}

/** flash, install, uninstall: see install/cli.ts. */
async function installCommand(cmd: 'flash' | 'install' | 'uninstall', rest: string[], host: LaunchHost): Promise<number> {
  const io: InstallIO = { out: (l) => process.stdout.write(l + '\n'), err: (l) => process.stderr.write(l + '\n') };
  try {
    if (cmd === 'uninstall') return await uninstall(rest, io);
    return await (cmd === 'flash' ? flash : install)(rest, process.env, host.bundle, io);
  } catch (err) {
    process.stderr.write(`skiff-agent ${cmd}: ${(err as Error).message}\n`);
    return 1;
  } finally {
    delete process.env.SKIFF_JOIN_TOKEN;
  }
}

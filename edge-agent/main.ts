/**
 * The `skiff-agent` command:
 *   skiff-agent join [--master mqtts://HOST:8883] [--token-file FILE | --token JOIN_TOKEN] [--name NAME] [--data-dir DIR]
 *                    [--volume-dir DIR] [--labels k=v,...] [--address IP] [--lease-interval 2s] [--discovery-timeout 10s]
 *   skiff-agent stop [--data-dir DIR] [--pods] [--timeout 30s]
 * Without --master the master is found on the LAN by mDNS (`_skiff-master._tcp`). SIGTERM/SIGINT stop the
 * agent and leave its pods running (the next start adopts them); `stop --pods` empties the node.
 * Exit codes: 0 after a graceful stop, 1 on bad arguments or a failed join.
 */
import { SkiffError } from '../protocol/errors.js';
import { parseDuration } from '../protocol/duration.js';
import { resolveDataDir, type AgentOptions } from './config.js';
import { startAgent, type Agent } from './agent.js';
import { consoleLogger } from './log.js';
import { stopNode } from './stop.js';
import { AGENT_VERSION } from './version.js';

/** The help text. */
export const usage = `skiff-agent ${AGENT_VERSION}: runs Skiff pods on this board

Usage:
  skiff-agent join [--master mqtts://HOST:8883] [--token-file FILE | --token JOIN_TOKEN] [options]
  skiff-agent stop [--data-dir DIR] [--pods] [--timeout DUR]

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
  --lease-interval DUR   heartbeat period, e.g. 2s or 500ms (default 2s)

stop options (stops the agent running on DIR; its pods keep running unless --pods):
  --data-dir DIR         the agent's data dir (default ~/.skiff/agent)
  --pods                 also stop every pod process, each with its grace period: the node is empty afterwards
  --timeout DUR          how long the agent may take to stop before it is killed (default 30s)

SIGTERM or SIGINT stop a running agent and leave its pods running: the next start adopts them.

  -h, --help             this text
`;

/** A command-line mistake: printed with the usage hint, exit 1. */
export class UsageError extends Error {}

/** A parsed command line. */
export type Command = { cmd: 'help' } | { cmd: 'join'; options: AgentOptions } | { cmd: 'stop'; dataDir: string; pods: boolean; timeoutMs: number };

const valued = ['--master', '--token', '--token-file', '--name', '--data-dir', '--volume-dir', '--labels', '--address', '--lease-interval', '--discovery-timeout', '--timeout'] as const;
type Valued = (typeof valued)[number];
const flagsOf = { join: ['--master', '--token', '--token-file', '--name', '--data-dir', '--volume-dir', '--labels', '--address', '--lease-interval', '--discovery-timeout'], stop: ['--data-dir', '--pods', '--timeout'] };

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
  if (cmd !== 'join' && cmd !== 'stop') throw new UsageError(`unknown command "${cmd}" (expected: join or stop)`);
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
  return { cmd, options };
}

/** The flag behind each option, so an option error names the flag the user typed. */
const flagOf: Record<string, string> = { master: '--master', token: '--token', tokenFile: '--token-file', name: '--name', dataDir: '--data-dir', labels: '--labels', address: '--address', leaseIntervalMs: '--lease-interval' };

/** Runs the command; resolves with the exit code once the agent has stopped. */
export async function main(argv: string[]): Promise<number> {
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
  if (argv.includes('--token') || argv.some((a) => a.startsWith('--token='))) process.stderr.write('skiff-agent: warning: --token is visible to every user in ps for as long as the agent runs; prefer --token-file FILE or SKIFF_JOIN_TOKEN\n');
  return run(parsed.options);
}

/**
 * Starts the agent and runs it until SIGTERM/SIGINT, then stops it and leaves its pods running (systemd's
 * restart and stop, an upgrade: the next start adopts them). The handlers are installed before the start, so a
 * signal during it stops the agent as soon as it is up, and they stay: a second signal (Ctrl-C in a terminal
 * reaches the whole process group, and a parent may forward SIGTERM too) never cuts the stop short.
 */
async function run(options: AgentOptions): Promise<number> {
  let signalled: NodeJS.Signals | undefined;
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
    agent = await startAgent(options);
  } catch (err) {
    // Option checks name the option (flags map one-to-one); join failures carry the master's message.
    const field = err instanceof SkiffError && err.code === 'SKIFF_ERR_VALIDATION' ? (err.details?.[0]?.field ?? '').split('.')[0] : '';
    const msg = flagOf[field] ? `${flagOf[field]}: ${(err as Error).message}` : (err as Error).message;
    process.stderr.write(`skiff-agent: ${msg}\n`);
    return 1;
  }
  await new Promise<void>((resolve) => {
    stopNow = resolve;
    if (signalled) resolve();
  });
  try {
    await agent.stop({ stopPods: false });
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

/**
 * The `skiff-agent` command:
 *   skiff-agent join [--master mqtt://HOST:PORT] [--token-file FILE | --token JOIN_TOKEN] [--name NAME] [--data-dir DIR]
 *                    [--labels k=v,...] [--address IP] [--lease-interval 2s] [--discovery-timeout 10s]
 * Without --master the master is found on the LAN by mDNS (`_skiff-master._tcp`).
 * Exit codes: 0 after a graceful stop (SIGTERM/SIGINT), 1 on bad arguments or a failed join.
 */
import { SkiffError } from '../protocol/errors.js';
import { parseDuration } from '../protocol/duration.js';
import { type AgentOptions } from './config.js';
import { startAgent } from './agent.js';
import { AGENT_VERSION } from './version.js';

/** The help text. */
export const usage = `skiff-agent ${AGENT_VERSION}: runs Skiff pods on this board

Usage:
  skiff-agent join [--master mqtt://HOST:PORT] [--token-file FILE | --token JOIN_TOKEN] [options]

Options:
  --master URL           the master's MQTT address, e.g. mqtt://192.168.1.10:1883
                         (default: find the master on the LAN by mDNS, _skiff-master._tcp)
  --discovery-timeout DUR  how long to look for the master on the LAN without --master (default 10s)
  --token-file FILE      a file holding the join token (needed on the first join, or after the node was
                         deleted); read when needed, never kept in memory. Or set SKIFF_JOIN_TOKEN.
  --token TOKEN          the join token on the command line (visible in ps to every user: prefer --token-file)
  --name NAME            node name (default: the hostname, lowercased and DNS-safe)
  --data-dir DIR         where the credential, desired-set cache, pid files and logs live (default ~/.skiff/agent)
  --labels k=v,...       node labels
  --address IP           the node's InternalIP (default: the first non-internal IPv4 address)
  --lease-interval DUR   heartbeat period, e.g. 2s or 500ms (default 2s)
  -h, --help             this text
`;

/** A command-line mistake: printed with the usage hint, exit 1. */
export class UsageError extends Error {}

const valued = ['--master', '--token', '--token-file', '--name', '--data-dir', '--labels', '--address', '--lease-interval', '--discovery-timeout'] as const;

/**
 * Parses `join ...` arguments into agent options; throws UsageError naming the flag. `help` when --help. The join
 * token comes from --token-file, --token or `env.SKIFF_JOIN_TOKEN` (at most one of them).
 */
export function parseArgs(argv: string[], env: Record<string, string | undefined> = {}): { help: true } | { help: false; options: AgentOptions } {
  if (argv.includes('--help') || argv.includes('-h') || argv.length === 0) return { help: true };
  const [cmd, ...rest] = argv;
  if (cmd !== 'join') throw new UsageError(`unknown command "${cmd}" (expected: join)`);
  const v: Partial<Record<(typeof valued)[number], string>> = {};
  for (let i = 0; i < rest.length; i++) {
    let flag = rest[i];
    let value: string | undefined;
    const eq = flag.indexOf('=');
    if (flag.startsWith('--') && eq > 0) {
      value = flag.slice(eq + 1);
      flag = flag.slice(0, eq);
    }
    if (!(valued as readonly string[]).includes(flag)) throw new UsageError(`unknown flag ${flag}`);
    if (value === undefined) {
      value = rest[++i];
      if (value === undefined || value.startsWith('--')) throw new UsageError(`${flag} needs a value`);
    }
    v[flag as (typeof valued)[number]] = value;
  }
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
  if (v['--address'] !== undefined) options.address = v['--address'];
  if (v['--labels'] !== undefined) {
    options.labels = {};
    for (const pair of v['--labels'].split(',').filter(Boolean)) {
      const i = pair.indexOf('=');
      if (i <= 0) throw new UsageError(`--labels: "${pair}" is not k=v`);
      options.labels[pair.slice(0, i)] = pair.slice(i + 1);
    }
  }
  if (v['--lease-interval'] !== undefined) {
    const ms = parseDuration(v['--lease-interval']);
    if (!ms) throw new UsageError(`--lease-interval must be a duration like 2s or 500ms, got "${v['--lease-interval']}"`);
    options.leaseIntervalMs = ms;
  }
  if (v['--discovery-timeout'] !== undefined) {
    const ms = parseDuration(v['--discovery-timeout']);
    if (!ms) throw new UsageError(`--discovery-timeout must be a duration like 10s or 500ms, got "${v['--discovery-timeout']}"`);
    options.discoveryTimeoutMs = ms;
  }
  return { help: false, options };
}

/** The flag behind each option, so an option error names the flag the user typed. */
const flagOf: Record<string, string> = { master: '--master', token: '--token', tokenFile: '--token-file', name: '--name', dataDir: '--data-dir', labels: '--labels', address: '--address', leaseIntervalMs: '--lease-interval' };

/** Runs the command; resolves with the exit code once the agent has stopped. */
export async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs(argv, process.env);
    // Pods must not inherit the join token, and nothing later needs the variable.
    delete process.env.SKIFF_JOIN_TOKEN;
  } catch (err) {
    process.stderr.write(`skiff-agent: ${(err as Error).message}\nRun skiff-agent --help for usage.\n`);
    return 1;
  }
  if (parsed.help) {
    process.stdout.write(usage);
    return 0;
  }
  if (argv.includes('--token') || argv.some((a) => a.startsWith('--token='))) process.stderr.write('skiff-agent: warning: --token is visible to every user in ps for as long as the agent runs; prefer --token-file FILE or SKIFF_JOIN_TOKEN\n');
  let agent;
  try {
    agent = await startAgent(parsed.options);
  } catch (err) {
    // Option checks name the option (flags map one-to-one); join failures carry the master's message.
    const field = err instanceof SkiffError && err.code === 'SKIFF_ERR_VALIDATION' ? (err.details?.[0]?.field ?? '').split('.')[0] : '';
    const msg = flagOf[field] ? `${flagOf[field]}: ${(err as Error).message}` : (err as Error).message;
    process.stderr.write(`skiff-agent: ${msg}\n`);
    return 1;
  }
  const a = agent;
  return new Promise<number>((resolve) => {
    const onSignal = (sig: NodeJS.Signals) => {
      process.stderr.write(`skiff-agent: ${sig}: stopping pods and disconnecting\n`);
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      a.stop({ stopPods: true }).then(
        () => resolve(0),
        (err) => {
          process.stderr.write(`skiff-agent: stop: ${(err as Error).message}\n`);
          resolve(1);
        },
      );
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}

/**
 * The `skiff` command: finds the verb, parses its flags, opens the API connection lazily and maps
 * errors to `error: <message>` and exit code 1. `main` takes argv and an io object and returns the
 * exit code, so tests run it in-process; `bin/skiff.js` wires the process streams.
 */
import { SkiffError, hasOwn, own } from '../protocol/index.js';
import { globalOptions, globalUsage, parseVerbArgs, str, type Command, type Values } from './args.js';
import { connectApi } from './client.js';
import { apply } from './commands/apply.js';
import { autoscale } from './commands/autoscale.js';
import { backup } from './commands/backup.js';
import { dashboard } from './commands/dashboard.js';
import { del } from './commands/delete.js';
import { describe } from './commands/describe.js';
import { exec } from './commands/exec.js';
import { get } from './commands/get.js';
import { logs } from './commands/logs.js';
import { cordon, drain, uncordon } from './commands/node.js';
import { nodes } from './commands/nodes-upgrade.js';
import { token } from './commands/token.js';
import { top } from './commands/top.js';
import { rollout } from './commands/rollout.js';
import { scale } from './commands/scale.js';
import { secrets } from './commands/secrets.js';
import { version } from './commands/version.js';
import { config } from './commands/config.js';
import { diff } from './commands/diff.js';
import { edit } from './commands/edit.js';
import { annotate, label } from './commands/label.js';
import { taint } from './commands/taint.js';
import { create } from './commands/create.js';
import { run } from './commands/run.js';
import { expose } from './commands/expose.js';
import { set } from './commands/set.js';
import { portForward } from './commands/port-forward.js';
import { cp } from './commands/cp.js';
import { wait } from './commands/wait.js';
import { explain } from './commands/explain.js';
import { apiResources } from './commands/api-resources.js';
import { clusterInfo } from './commands/cluster-info.js';
import { auth } from './commands/auth.js';
import { completionCommand } from './commands/completion.js';
import { resolveConnection, selectedContext } from './config.js';
import type { Api, CliIO, CommandContext } from './types.js';

/** Every verb this module serves. `master` and `up` are dispatched by bin/skiff.js before main. */
export const commands = {
  apply, create, get, describe, edit, diff, delete: del, label, annotate, set, logs, exec, cp, 'port-forward': portForward, run, expose, wait,
  scale, autoscale, rollout, cordon, uncordon, drain, taint, nodes, top, explain, 'api-resources': apiResources, 'cluster-info': clusterInfo, auth,
  token, secrets, backup, config, dashboard, completion: completionCommand((): string[] => [...verbNames(), ...Object.keys(elsewhere)].sort()), version,
} satisfies Record<string, Command>;

/** The verbs' names (a function: the completion verb lists them, and is one of them). */
function verbNames(): string[] {
  return Object.keys(commands);
}

/** A verb of the CLI. */
export type Verb = keyof typeof commands;

const elsewhere: Record<string, string> = {
  master: 'start the control plane (bin/skiff.js runs it)',
  up: 'a master, a local agent and an example app: the quickstart (bin/skiff.js runs it)',
  restore: 'load a backup into an empty store (offline; see "skiff restore --help")',
  migrate: 'copy the state from one store to another, e.g. SQLite to etcd (offline)',
};

/** Runs the CLI; resolves with the process exit code (0 success, 1 error). */
export async function main(argv: string[], io: CliIO): Promise<number> {
  let api: Api | undefined;
  try {
    const at = findVerb(argv);
    if (at < 0) {
      if (argv.some((a) => a === '-h' || a === '--help') || argv.length === 0) {
        io.stdout(globalHelp());
        return 0;
      }
      throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `no command given (see "skiff --help")`);
    }
    const verb = argv[at];
    if (verb === 'help') {
      io.stdout(argv[at + 1] && hasOwn(commands, argv[at + 1]) ? verbHelp(argv[at + 1] as Verb) : globalHelp());
      return 0;
    }
    if (!hasOwn(commands, verb)) {
      const where = hasOwn(elsewhere, verb) ? ' (run it through the skiff executable, bin/skiff.js)' : ' (see "skiff --help")';
      throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `unknown command "${verb}" for "skiff"${where}`);
    }
    const cmd = commands[verb as Verb];
    const { values, positionals } = parseVerbArgs(verb, [...argv.slice(0, at), ...argv.slice(at + 1)], cmd.options);
    if (values.help) {
      io.stdout(verbHelp(verb as Verb));
      return 0;
    }
    // A namespaced verb without -n (and without -A) works in the context's namespace, as kubectl does.
    if ('namespace' in cmd.options && cmd.contextNamespace !== false && values.namespace === undefined && values['all-namespaces'] !== true) {
      const ns = selectedContext(connectionFlags(values), io.env).namespace;
      if (ns) values.namespace = ns;
    }
    const ctx: CommandContext = {
      io,
      now: () => (io.now ? io.now() : Date.now()),
      api: async () => (api ??= await connectApi(resolveConnection(connectionFlags(values), io.env))),
      connection: () => resolveConnection(connectionFlags(values), io.env),
    };
    return await cmd.run(ctx, values, positionals);
  } catch (err) {
    if (!(err instanceof SkiffError)) throw err;
    io.stderr(`error: ${err.message}\n`);
    return 1;
  } finally {
    await api?.close().catch(() => {});
  }
}

/** Index of the verb in argv: the first word that is not a global flag or its value; -1 if none. */
function findVerb(argv: string[]): number {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') return i + 1 < argv.length ? i + 1 : -1;
    if (!a.startsWith('-')) return i;
    const name = a.replace(/^--?/, '');
    const opt = own(globalOptions as Record<string, { type: string }>, name);
    if (opt?.type === 'string') i++; // skip the value of `--server URL`
  }
  return -1;
}

function connectionFlags(values: Values) {
  return {
    server: str(values, 'server'),
    token: str(values, 'token'),
    user: str(values, 'user'),
    config: str(values, 'config'),
    context: str(values, 'context'),
    'certificate-authority': str(values, 'certificate-authority'),
    'request-timeout': str(values, 'request-timeout'),
  };
}

/** `skiff --help`. */
export function globalHelp(): string {
  const width = Math.max(...[...Object.keys(commands), ...Object.keys(elsewhere)].map((k) => k.length)) + 3;
  const lines = [
    ...Object.entries(elsewhere).map(([k, s]) => `  ${k.padEnd(width)}${s}`),
    ...Object.entries(commands).map(([k, c]) => `  ${k.padEnd(width)}${c.summary}`),
  ];
  return `skiff: a Kubernetes-style orchestrator for edge devices.

Usage:
  skiff [--server URL] [--token TOKEN] COMMAND [flags]

Commands:
${lines.join('\n')}

${globalUsage}
Run "skiff COMMAND --help" for a command's flags.
`;
}

/** `skiff VERB --help`. */
export function verbHelp(verb: Verb): string {
  const c = commands[verb];
  return `skiff ${verb}: ${c.summary}\n\n${c.usage}\n${globalUsage}`;
}

/**
 * Argument parsing on node's `util.parseArgs`: the global flags every verb takes, and a wrapper that
 * turns parseArgs' errors into one-line messages naming the flag and the command.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { SkiffError } from '../protocol/index.js';
import type { CommandContext } from './types.js';

/** The option table of a command, in parseArgs' shape. */
export type Options = NonNullable<ParseArgsConfig['options']>;

/** Parsed flag values. */
export type Values = Record<string, string | boolean | (string | boolean)[] | undefined>;

/** One verb of the `skiff` command. */
export interface Command {
  /** One line for `skiff --help`. */
  summary: string;
  /** The text of `skiff <verb> --help`, from `Usage:` on. */
  usage: string;
  options: Options;
  /** False for a verb whose --namespace is not the namespace it works in (config set-context): no context default. */
  contextNamespace?: false;
  /** Runs the verb; resolves with the exit code. */
  run(ctx: CommandContext, values: Values, positionals: string[]): Promise<number>;
}

/** Flags every verb takes (connection and help). */
export const globalOptions = {
  server: { type: 'string' },
  token: { type: 'string' },
  user: { type: 'string' },
  config: { type: 'string' },
  'certificate-authority': { type: 'string' },
  context: { type: 'string' },
  'request-timeout': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} satisfies Options;

/** Help text of the global flags, appended to every usage. */
export const globalUsage = `Global flags:
  --server URL             the master, e.g. mqtts://HOST:8883 (or SKIFF_SERVER, or the config file)
  --token TOKEN            the API token (or SKIFF_TOKEN, or the config file)
  --user NAME              the MQTT user name: admin (default) or a token's name
  --config FILE            the client config file (or SKIFF_CONFIG, a colon-separated list merged as KUBECONFIG;
                           default ~/.skiff/config.json); see "skiff config --help"
  --context NAME           the context of the client config to use (default: its current-context)
  --certificate-authority FILE  the cluster CA (PEM, e.g. DATA/tls/ca.crt) to check an mqtts:// master against
                           (or SKIFF_CA_FILE; default: the context's cluster's certificate-authority-data)
  --request-timeout DUR    how long to wait for the master (default 10s)
  -h, --help               show help
`;

/** The namespace flag shared by namespaced verbs. */
export const namespaceOption = { namespace: { type: 'string', short: 'n' } } satisfies Options;

/** Parses a verb's arguments strictly; unknown flags and missing values become SKIFF_ERR_BAD_REQUEST. */
export function parseVerbArgs(verb: string, args: string[], options: Options): { values: Values; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({ args, options: { ...globalOptions, ...options }, allowPositionals: true, strict: true });
    return { values: values as Values, positionals };
  } catch (err) {
    throw usageError(verb, err as Error & { code?: string });
  }
}

function usageError(verb: string, err: Error & { code?: string }): SkiffError {
  // parseArgs names the flag as '--tail', '-x' or '-n, --namespace <value>': prefer the long form.
  const flag = /'(?:-\w, )?(--?[\w-]+)/.exec(err.message)?.[1] ?? '';
  const hint = `(see "skiff ${verb} --help")`;
  switch (err.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return new SkiffError('SKIFF_ERR_BAD_REQUEST', `unknown flag "${flag}" for "skiff ${verb}" ${hint}`);
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      if (/argument missing/.test(err.message)) return new SkiffError('SKIFF_ERR_BAD_REQUEST', `flag "${flag}" of "skiff ${verb}" needs a value ${hint}`);
      if (/ambiguous/.test(err.message))
        return new SkiffError('SKIFF_ERR_BAD_REQUEST', `flag "${flag}" of "skiff ${verb}" needs a value (write ${flag}=VALUE for a value starting with "-")`);
      return new SkiffError('SKIFF_ERR_BAD_REQUEST', `flag "${flag}" of "skiff ${verb}" takes no value ${hint}`);
    default:
      return new SkiffError('SKIFF_ERR_BAD_REQUEST', `skiff ${verb}: ${err.message.split('\n')[0]} ${hint}`);
  }
}

/** A flag's value as a string (the last one when repeated). */
export function str(values: Values, name: string): string | undefined {
  const v = values[name];
  const last = Array.isArray(v) ? v[v.length - 1] : v;
  return typeof last === 'string' ? last : undefined;
}

/** A flag's values as strings (for `multiple` flags). */
export function strs(values: Values, name: string): string[] {
  const v = values[name];
  return (Array.isArray(v) ? v : v === undefined ? [] : [v]).filter((x): x is string => typeof x === 'string');
}

/** A non-negative integer flag, or undefined when absent. */
export function intFlag(values: Values, name: string): number | undefined {
  const s = str(values, name);
  if (s === undefined) return undefined;
  if (!/^\d+$/.test(s)) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `--${name}: must be an integer ≥ 0, got "${s}"`);
  return Number(s);
}

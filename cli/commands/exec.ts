/**
 * `skiff exec POD [-c CONTAINER] [-i] [-t] [--timeout DUR] -- CMD [ARGS...]`, as `kubectl exec`: without -i/-t
 * the command's output and exit code; with them an interactive session (exec-interactive.ts).
 */
import { SkiffError, durationFlag } from '../../protocol/index.js';
import { namespaceOption, str, type Command } from '../args.js';
import { defaultNamespace } from '../target.js';
import { execInteractive } from './exec-interactive.js';

/** What the exec stream ends with: the command's exit code (and the signal that ended it, if one did). */
export interface ExecResult {
  exitCode?: number;
  signal?: string;
}

/** The exec verb. */
export const exec: Command = {
  summary: 'run a command in a container (-it: an interactive terminal)',
  usage: `Usage:
  skiff exec POD [-c CONTAINER] [-i] [-t] [--timeout DUR] [-n NS] -- COMMAND [ARGS...]

Runs COMMAND in the container, with the container's environment and working directory (and, for a
process pod, inside its cgroup). Without -i/-t the command gets no stdin and no terminal; its stdout and
stderr are printed as they come. With -i your stdin goes to the command; with -t it runs on a terminal
of your terminal's size, your keys reach it as typed (Ctrl-C, Ctrl-D included) and a resize follows.
skiff exits with the command's exit code.

Examples:
  skiff exec web-7d9c-x2x1 -- ls -l
  skiff exec web-7d9c-x2x1 -c server -- sh -c 'echo $PORT'
  skiff exec -it web-7d9c-x2x1 -- sh
  echo 'select 1;' | skiff exec -i db-0 -- sqlite3 /data/app.db

Flags:
  -c, --container NAME     the container (default: the pod's first container)
  -i, --stdin              pass stdin to the command
  -t, --tty                run the command on a terminal (needs stdin to be one)
  --timeout DUR            kill the command after this long (default 5m; none with -i/-t)
  -n, --namespace NS       the namespace (default "default")
`,
  options: {
    ...namespaceOption,
    container: { type: 'string', short: 'c' },
    stdin: { type: 'boolean', short: 'i' },
    tty: { type: 'boolean', short: 't' },
    timeout: { type: 'string' },
  },
  async run(ctx, values, positionals) {
    const [target, ...command] = positionals;
    if (!target) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', 'skiff exec: a pod name is required, e.g. "skiff exec web-7d9c-x2x1 -- ls"');
    if (command.length === 0) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', 'skiff exec: a command is required after --, e.g. "skiff exec POD -- ls"');
    const timeout = str(values, 'timeout');
    const timeoutMs = timeout !== undefined ? durationFlag('--timeout', timeout) : undefined;
    if (timeoutMs !== undefined && timeoutMs <= 0) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `--timeout: must be longer than 0, got "${timeout}"`);
    const container = str(values, 'container');
    const params = {
      name: target.replace(/^(pods?|po)\//, ''),
      namespace: str(values, 'namespace') ?? defaultNamespace,
      command,
      ...(container ? { container } : {}),
      ...(timeoutMs !== undefined ? { timeoutSeconds: Math.ceil(timeoutMs / 1000) } : {}),
    };
    if (values.stdin === true || values.tty === true) return execInteractive(ctx, params, { stdin: values.stdin === true, tty: values.tty === true });
    const api = await ctx.api();
    let result: ExecResult | undefined;
    await api.stream(
      'exec',
      params,
      (res) => {
        if (typeof res.chunk === 'string') {
          if (res.stream === 'stderr') ctx.io.stderr(res.chunk);
          else ctx.io.stdout(res.chunk);
        }
        if (res.result !== undefined && res.result !== null) result = res.result as ExecResult;
      },
      ctx.io.signal,
    );
    return exitCodeOf(ctx, params.name, result);
  },
};

/** skiff's exit code from the command's, in kubectl's words when it failed. */
export function exitCodeOf(ctx: Parameters<Command['run']>[0], pod: string, result: ExecResult | undefined): number {
  // Ctrl-C: the stream was cancelled (and the command killed); 130 is the shell's code for an interrupt.
  if (!result && ctx.io.signal?.aborted) return 130;
  if (!result) throw new SkiffError('SKIFF_ERR_INTERNAL', `skiff exec: the stream of pod "${pod}" ended without an exit code`);
  const code = typeof result.exitCode === 'number' ? result.exitCode : 1;
  // kubectl's wording and behaviour: the message on stderr, and the command's code as skiff's own.
  if (code !== 0) ctx.io.stderr(`command terminated with exit code ${code}\n`);
  return code;
}

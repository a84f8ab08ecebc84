/** `skiff exec [-i] [-t] POD [-c CONTAINER] [--timeout DUR] -- CMD [ARGS...]`: like `kubectl exec`. */
import { SkiffError, durationFlag } from '../../protocol/index.js';
import { namespaceOption, str, type Command } from '../args.js';
import { defaultNamespace } from '../target.js';
import { interactiveExec } from './exec-interactive.js';

/** What the exec stream ends with: the command's exit code (and the signal that ended it, if one did). */
interface ExecResult {
  exitCode?: number;
  signal?: string;
}

/** The exec verb. */
export const exec: Command = {
  summary: 'run a command in a container (-i -t: an interactive shell)',
  usage: `Usage:
  skiff exec [-i] [-t] POD [-c CONTAINER] [--timeout DUR] [-n NS] -- COMMAND [ARGS...]

Runs COMMAND beside the container's process, with the container's environment and working directory.
Its stdout and stderr are printed as they come, and skiff exits with the command's exit code. Without -i
the command gets no stdin; with -i it reads skiff's; with -t it also gets a terminal the size of yours
(keys go to it raw, Ctrl-C included, until it exits). -i/-t: container pods.

Examples:
  skiff exec web-7d9c-x2x1 -- ls -l
  skiff exec web-7d9c-x2x1 -c server -- sh -c 'echo $PORT'
  skiff exec -it web-7d9c-x2x1 -- sh

Flags:
  -i, --stdin              pass skiff's standard input to the command
  -t, --tty                give the command a terminal (with -i)
  -c, --container NAME     the container (default: the pod's first container)
  --timeout DUR            kill the command after this long (default 5m)
  -n, --namespace NS       the namespace (default "default")
`,
  options: {
    ...namespaceOption,
    container: { type: 'string', short: 'c' },
    timeout: { type: 'string' },
    stdin: { type: 'boolean', short: 'i' },
    tty: { type: 'boolean', short: 't' },
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
    const api = await ctx.api();
    let result: ExecResult | undefined;
    if (values.stdin === true || values.tty === true) {
      if (!ctx.io.terminal) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', 'skiff exec: -i/-t need a terminal or a standard input to read');
      // kubectl: -t without -i gets a terminal but no input; here -t implies -i, what a shell needs.
      const tty = values.tty === true && ctx.io.terminal.isTTY;
      if (values.tty === true && !tty) ctx.io.stderr('Unable to use a TTY - input is not a terminal or the right kind of file\n');
      result = await interactiveExec(ctx, api, ctx.io.terminal, params, tty);
    } else
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
    // Ctrl-C: the stream was cancelled (and the command killed); 130 is the shell's code for an interrupt.
    if (!result && ctx.io.signal?.aborted) return 130;
    if (!result) throw new SkiffError('SKIFF_ERR_INTERNAL', `skiff exec: the stream of pod "${params.name}" ended without an exit code`);
    const code = typeof result.exitCode === 'number' ? result.exitCode : 1;
    // kubectl's wording and behaviour: the message on stderr, and the command's code as skiff's own.
    if (code !== 0) ctx.io.stderr(`command terminated with exit code ${code}\n`);
    return code;
  },
};

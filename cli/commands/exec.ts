/** `skiff exec POD [-c CONTAINER] [--timeout DUR] -- CMD [ARGS...]`: non-interactive, like `kubectl exec` without -i/-t. */
import { SkiffError, durationFlag } from '../../protocol/index.js';
import { namespaceOption, str, type Command } from '../args.js';
import { defaultNamespace } from '../target.js';

/** What the exec stream ends with: the command's exit code (and the signal that ended it, if one did). */
interface ExecResult {
  exitCode?: number;
  signal?: string;
}

/** The exec verb. */
export const exec: Command = {
  summary: 'run a command in a container (no stdin, no TTY)',
  usage: `Usage:
  skiff exec POD [-c CONTAINER] [--timeout DUR] [-n NS] -- COMMAND [ARGS...]

Runs COMMAND beside the container's process, with the container's environment and working directory.
Non-interactive: the command gets no stdin and no terminal (there is no -i / -t). Its stdout and stderr
are printed as they come, and skiff exits with the command's exit code.

Examples:
  skiff exec web-7d9c-x2x1 -- ls -l
  skiff exec web-7d9c-x2x1 -c server -- sh -c 'echo $PORT'

Flags:
  -c, --container NAME     the container (default: the pod's first container)
  --timeout DUR            kill the command after this long (default 5m)
  -n, --namespace NS       the namespace (default "default")
`,
  options: {
    ...namespaceOption,
    container: { type: 'string', short: 'c' },
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
    // Ctrl-C: the stream was cancelled (and the command killed); 130 is the shell's code for an interrupt.
    if (!result && ctx.io.signal?.aborted) return 130;
    if (!result) throw new SkiffError('SKIFF_ERR_INTERNAL', `skiff exec: the stream of pod "${params.name}" ended without an exit code`);
    const code = typeof result.exitCode === 'number' ? result.exitCode : 1;
    // kubectl's wording and behaviour: the message on stderr, and the command's code as skiff's own.
    if (code !== 0) ctx.io.stderr(`command terminated with exit code ${code}\n`);
    return code;
  },
};

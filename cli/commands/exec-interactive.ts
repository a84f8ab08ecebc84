/**
 * `skiff exec -i/-t`: the remote command's stdin, stdout and terminal are this process's (protocol/messages.ts
 * `exec` with `stdin`/`tty`). With -t and a terminal on stdin, the local terminal goes to raw mode — every key,
 * Ctrl-C and Ctrl-D included, is a byte for the remote terminal, whose line discipline makes them signals and
 * end-of-file there — and comes back to its mode at the end whatever happens; its size goes along at the start
 * and on every SIGWINCH. Both directions are bounded by the credit of protocol/flow.ts: stdin is not read
 * while a window of it is unacknowledged, output is acknowledged once stdout took it.
 */
import { Acker, Credit, SkiffError, chunks, type ApiResponse } from '../../protocol/index.js';
import type { CommandContext } from '../types.js';
import { exitCodeOf, type ExecResult } from './exec.js';

/** Runs the interactive session; resolves with skiff's exit code. */
export async function execInteractive(ctx: CommandContext, params: { name: string } & Record<string, unknown>, o: { stdin: boolean; tty: boolean }): Promise<number> {
  const term = ctx.io.terminal;
  if (!term) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', 'skiff exec: -i and -t need a terminal or a stdin to read');
  let tty = o.tty;
  // kubectl's behaviour and words: -t without a terminal on stdin goes on without one.
  if (tty && o.stdin && !term.isTTY) {
    ctx.io.stderr('Unable to use a TTY - input is not a terminal or the right kind of file\n');
    tty = false;
  }
  const size = tty ? term.size() : undefined;
  const api = await ctx.api();
  let ref = '';
  let result: ExecResult | undefined;
  const input = (piece: Record<string, unknown>) => api.notify('input', { ref, ...piece });
  const stdin = term.input;
  const credit = new Credit(
    () => stdin.pause(),
    () => stdin.resume(),
  );
  const acker = new Acker((n) => input({ ack: n }));
  const onData = (b: Buffer) => {
    for (const c of chunks(b)) {
      input({ data: c });
      credit.spend(c.length);
    }
  };
  const onEnd = () => input({ fin: true });
  const offResize = tty ? term.onResize(() => term.size() && input({ resize: term.size() })) : () => {};
  const raw = tty && term.isTTY;
  if (raw) term.setRawMode(true);
  const onPiece = (res: ApiResponse) => {
    if (res.ack === 0 && o.stdin) {
      // The command runs: from now on stdin has somewhere to go.
      stdin.on('data', onData);
      stdin.once('end', onEnd);
      stdin.resume();
    } else if (res.ack !== undefined) credit.refund(res.ack);
    if (res.data) {
      const n = res.data.length;
      if ((res as { stream?: string }).stream === 'stderr') {
        term.writeErr(res.data);
        acker.add(n);
      } else term.write(res.data, () => acker.add(n));
    }
    if (res.result !== undefined && res.result !== null) result = res.result as ExecResult;
  };
  try {
    await api.stream('exec', { ...params, stdin: o.stdin, tty, ...(size ? { rows: size.rows, cols: size.cols } : {}) }, onPiece, ctx.io.signal, (id) => (ref = id));
  } finally {
    if (raw) term.setRawMode(false);
    offResize();
    acker.close();
    stdin.off('data', onData);
    stdin.off('end', onEnd);
    stdin.pause();
  }
  return exitCodeOf(ctx, params.name, result);
}

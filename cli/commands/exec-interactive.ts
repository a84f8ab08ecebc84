/**
 * `skiff exec -i [-t] POD -- CMD`: an interactive session over the exec stream (protocol/messages.ts exec).
 * With -t the terminal goes raw (every key, Ctrl-C and Ctrl-D included, reaches the command, as with kubectl),
 * the window size goes along and follows resizes, and the command's terminal output comes back as bytes under
 * the credit of protocol/flow.ts. Keys are sent once the agent says the session is up (`ack: 0`); the end of
 * standard input (a pipe that ran dry) is passed on as `fin`. The terminal is restored whatever happens.
 */
import { Acker, Credit, chunks, type ApiResponse } from '../../protocol/index.js';
import type { Api, CommandContext, Terminal } from '../types.js';

/** What the stream ends with: the command's exit code. */
interface ExecResult {
  exitCode?: number;
}

/** Runs one interactive session; resolves with the command's result (undefined when cancelled). */
export async function interactiveExec(ctx: CommandContext, api: Api, term: Terminal, params: Record<string, unknown>, tty: boolean): Promise<ExecResult | undefined> {
  let ref = '';
  let ready = false;
  const early: Buffer[] = [];
  const send = (piece: Record<string, unknown>) => api.notify('input', { ref, ...piece });
  const credit = new Credit(
    () => term.input.pause(),
    () => term.input.resume(),
  );
  const acker = new Acker((n) => send({ ack: n }));
  const keys = (b: Buffer) => {
    if (!ready) return void early.push(b);
    for (const c of chunks(b)) {
      send({ data: c });
      credit.spend(c.length);
    }
  };
  const eof = () => (ready ? send({ fin: true }) : early.push(Buffer.alloc(0)));
  const size = tty ? term.size() : undefined;
  const offResize = tty ? term.onResize(() => ready && term.size() && send({ resize: term.size() })) : () => {};
  let result: ExecResult | undefined;
  const onMessage = (res: ApiResponse) => {
    if (res.ack !== undefined) {
      if (res.ack === 0 && !ready) {
        ready = true;
        for (const b of early.splice(0)) b.length ? keys(b) : send({ fin: true });
      } else credit.refund(res.ack);
    }
    if (res.data) {
      const n = res.data.length;
      term.write(res.data);
      acker.add(n);
    }
    if (typeof res.chunk === 'string') (res.stream === 'stderr' ? ctx.io.stderr : ctx.io.stdout)(res.chunk);
    if (res.result !== undefined && res.result !== null) result = res.result as ExecResult;
  };
  if (tty) term.setRaw(true);
  term.input.on('data', keys);
  term.input.on('end', eof);
  term.input.resume();
  try {
    await api.stream('exec', { ...params, stdin: true, tty, ...(size ? { rows: size.rows, cols: size.cols } : {}) }, onMessage, ctx.io.signal, (id) => (ref = id));
  } finally {
    term.input.off('data', keys);
    term.input.off('end', eof);
    term.input.pause();
    offResize();
    acker.close();
    if (tty) term.setRaw(false);
  }
  return result;
}

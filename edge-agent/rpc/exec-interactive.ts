/**
 * An interactive exec (`skiff exec -i`, `-t`, `-it`): a two-way stream of StreamPieces (protocol/messages.ts)
 * through the master, as port-forward's. `{ack: 0}` first, once the command runs (the client sends stdin only
 * from then on: a piece before it would find no stream); the command's output goes out as `data` (with
 * `stream: 'stderr'` for stderr when there is no terminal) under the credit of protocol/flow.ts — past a window
 * of unacknowledged bytes the command's output is no longer read, so a slow client holds the command, not the
 * agent's memory —; the client's `data` is written to the command's stdin and acknowledged once taken,
 * `resize` changes the terminal's size, `fin` closes stdin. The stream ends with `{result: {exitCode}}` and
 * `done` when the command ends, or when a cancel (the client's Ctrl-C with no terminal, a disconnect) kills it.
 */
import { SkiffError, toWireError } from '../../protocol/errors.js';
import { Acker, Credit, chunks } from '../../protocol/flow.js';
import type { RpcResponse } from '../../protocol/messages.js';
import type { ExecSession } from '../drivers/types.js';
import type { ExecParams, Resolved, Send } from './exec.js';
import type { Follower } from './logs.js';

/** A terminal's size from a piece, when it is one (rows and cols 1..10,000). */
function sizeOf(v: unknown): { rows: number; cols: number } | undefined {
  const s = v as { rows?: unknown; cols?: unknown } | null;
  const ok = (n: unknown): n is number => typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= 10_000;
  return s && typeof s === 'object' && ok(s.rows) && ok(s.cols) ? { rows: s.rows, cols: s.cols } : undefined;
}

/** Starts the command and serves its stream; the Follower takes the client's pieces and a cancel. */
export function serveInteractiveExec(r: Resolved, p: ExecParams, send: Send): Follower {
  let session: ExecSession | undefined;
  let ended: 'timeout' | 'cancel' | undefined;
  let finished = false;
  const credit = new Credit(
    () => session?.pause(),
    () => session?.resume(),
  );
  const acker = new Acker((n) => send({ ok: true, ack: n }));
  const finish = (m: Omit<RpcResponse, 'id'>) => {
    if (finished) return;
    finished = true;
    clearTimeout(deadline);
    acker.flush();
    acker.close();
    send({ ...m, done: true });
  };
  const deadline = p.timeoutSeconds
    ? setTimeout(() => {
        ended = 'timeout';
        session?.kill();
      }, p.timeoutSeconds * 1000)
    : undefined;
  const onOutput = (stream: 'stdout' | 'stderr', data: Buffer) => {
    for (const c of chunks(data)) {
      send({ ok: true, data: c, ...(stream === 'stderr' ? { stream } : {}) });
      credit.spend(c.length);
    }
  };
  r.driver.exec(r.target, { command: p.command, tty: p.tty, stdin: p.stdin, ...(p.rows ? { rows: p.rows } : {}), ...(p.cols ? { cols: p.cols } : {}), onOutput }).then(
    async (s) => {
      session = s;
      if (ended) s.kill();
      send({ ok: true, ack: 0 });
      const result = await s.exited;
      if (ended === 'timeout') finish({ ok: false, error: toWireError(new SkiffError('SKIFF_ERR_TIMEOUT', `command ${JSON.stringify(p.command.join(' '))} in container "${r.container}" of pod ${r.podRef} did not finish within ${p.timeoutSeconds}s; killed`)) });
      else finish({ ok: true, result });
    },
    (err: Error) => finish({ ok: false, error: toWireError(err instanceof SkiffError ? err : new SkiffError('SKIFF_ERR_BAD_REQUEST', `cannot run ${JSON.stringify(p.command[0])} in container "${r.container}" of pod ${r.podRef}: ${err.message}`)) }),
  );
  return {
    stop: () => {
      ended ??= 'cancel';
      if (session) session.kill();
      else finish({ ok: true });
    },
    input: (piece) => {
      if (!session) return; // before `ack: 0` the client sends nothing
      if (piece.data instanceof Uint8Array) {
        const n = piece.data.length;
        session.write(Buffer.from(piece.data), () => acker.add(n));
      }
      if (typeof piece.ack === 'number') credit.refund(piece.ack);
      const size = sizeOf(piece.resize);
      if (size) session.resize(size.rows, size.cols);
      if (piece.fin === true) session.endInput();
    },
  };
}

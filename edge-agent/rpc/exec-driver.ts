/**
 * `exec` into a container its driver runs (containers: the engine's exec API, drivers/container/exec.ts), with
 * the same checks, deadline, cancel and output messages as a host process's exec (exec.ts), ending with
 * `{done: true, result: {exitCode}}`. Interactive (`skiff exec -i -t`): the client's pieces come in through the
 * stream's `input` — `data` to the command's stdin (acknowledged once written), `fin` for the end of input,
 * `resize` for the terminal's size — and with a TTY the output goes out as `data` pieces under the credit of
 * protocol/flow.ts (`ack: 0` first: the session is up). Without a TTY it goes out as text chunks per stream.
 */
import { SkiffError, toWireError } from '../../protocol/errors.js';
import { Acker, Credit, chunks } from '../../protocol/flow.js';
import type { RpcResponse } from '../../protocol/messages.js';
import type { ExecSession } from '../drivers/types.js';
import type { PodManager } from '../pods/manager.js';
import { findContainer, OutputBatcher, type ExecParams } from './exec.js';
import type { Follower } from './logs.js';

type Send = (r: Omit<RpcResponse, 'id'>) => void;

/** Starts one exec through the pod's driver; the Follower's stop (a cancel) kills it, its input feeds it. */
export function serveDriverExec(pods: PodManager, p: ExecParams, send: Send): Follower {
  const { runner, cname, podRef } = findContainer(pods, p);
  const out = new OutputBatcher(send);
  const decoders = { stdout: new TextDecoder(), stderr: new TextDecoder() };
  let session: ExecSession | undefined;
  const credit = new Credit(
    () => session?.pause?.(),
    () => session?.resume?.(),
  );
  const acker = new Acker((n) => send({ ok: true, ack: n }));
  let ended: 'timeout' | 'cancel' | undefined;
  let finished = false;
  const finish = (r: Omit<RpcResponse, 'id'>) => {
    if (finished) return;
    finished = true;
    clearTimeout(deadline);
    out.flush();
    acker.flush();
    acker.close();
    send({ ...r, done: true });
  };
  const deadline = p.timeoutSeconds
    ? setTimeout(() => {
        ended = 'timeout';
        session?.kill();
      }, p.timeoutSeconds * 1000)
    : undefined;
  const onOutput = (stream: 'stdout' | 'stderr', data: Buffer) => {
    if (!p.tty) return out.add(stream, decoders[stream].decode(data, { stream: true }));
    for (const c of chunks(data)) {
      send({ ok: true, data: c });
      credit.spend(c.length);
    }
  };
  runner.driver!.exec!({ podUid: runner.uid, containerName: cname, stateDir: '' }, { command: p.command, tty: p.tty, stdin: p.stdin, rows: p.rows, cols: p.cols, onOutput }).then(
    async (s) => {
      session = s;
      if (ended) s.kill();
      if (p.stdin || p.tty) send({ ok: true, ack: 0 }); // the session is up: the client may send its input
      const { exitCode } = await s.exited;
      if (ended === 'timeout') finish({ ok: false, error: toWireError(new SkiffError('SKIFF_ERR_TIMEOUT', `command ${JSON.stringify(p.command.join(' '))} in container "${cname}" of pod ${podRef} did not finish within ${p.timeoutSeconds}s; killed`)) });
      else finish({ ok: true, result: { exitCode } });
    },
    (err: Error) => finish({ ok: false, error: toWireError(new SkiffError('SKIFF_ERR_BAD_REQUEST', `cannot run ${JSON.stringify(p.command[0])} in container "${cname}" of pod ${podRef}: ${err.message}`)) }),
  );
  return {
    stop: () => {
      ended ??= 'cancel';
      session?.kill();
    },
    input: (piece) => {
      if (!session) return; // nothing is sent before `ack: 0`
      if (piece.data instanceof Uint8Array) {
        const n = piece.data.length;
        session.write(Buffer.from(piece.data), () => acker.add(n));
      }
      if (typeof piece.ack === 'number') credit.refund(piece.ack);
      const r = piece.resize as { rows?: unknown; cols?: unknown } | undefined;
      if (r && Number.isInteger(r.rows) && Number.isInteger(r.cols)) session.resize(r.rows as number, r.cols as number);
      if (piece.fin === true) session.endInput();
    },
  };
}

/**
 * `exec` into a container its driver runs (containers: the engine's exec API, drivers/container/exec.ts):
 * the same checks, deadline, cancel and output messages as a host process's exec (exec.ts), ending with
 * `{done: true, result: {exitCode}}`.
 */
import { SkiffError, toWireError } from '../../protocol/errors.js';
import type { RpcResponse } from '../../protocol/messages.js';
import type { ExecSession } from '../drivers/types.js';
import type { PodManager } from '../pods/manager.js';
import { findContainer, OutputBatcher, type ExecParams } from './exec.js';
import type { Follower } from './logs.js';

type Send = (r: Omit<RpcResponse, 'id'>) => void;

/** Starts one exec through the pod's driver; the Follower's stop (a cancel) kills it. */
export function serveDriverExec(pods: PodManager, p: ExecParams, send: Send): Follower {
  const { runner, cname, podRef } = findContainer(pods, p);
  const out = new OutputBatcher(send);
  const decoders = { stdout: new TextDecoder(), stderr: new TextDecoder() };
  let session: ExecSession | undefined;
  let ended: 'timeout' | 'cancel' | undefined;
  let finished = false;
  const finish = (r: Omit<RpcResponse, 'id'>) => {
    if (finished) return;
    finished = true;
    clearTimeout(deadline);
    out.flush();
    send({ ...r, done: true });
  };
  const deadline = setTimeout(() => {
    ended = 'timeout';
    session?.kill();
  }, p.timeoutSeconds * 1000);
  runner.driver!.exec!({ podUid: runner.uid, containerName: cname, stateDir: '' }, {
    command: p.command,
    tty: false,
    stdin: false,
    onOutput: (stream, data) => out.add(stream, decoders[stream].decode(data, { stream: true })),
  }).then(
    async (s) => {
      session = s;
      if (ended) s.kill();
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
  };
}

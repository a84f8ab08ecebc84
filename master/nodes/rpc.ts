/**
 * Master → agent calls over `nodes/{node}/rpc/{id}/req|res` (logs, exec, describe): one answer, or a
 * stream of chunks ending with `done`. Calls time out when the agent does not answer.
 */
import { randomBytes } from 'node:crypto';
import { SkiffError, encode, topics, type RpcRequest, type RpcResponse } from '../../protocol/index.js';

/** A pending call. */
interface Call {
  node: string;
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  onChunk?: (chunk: string, res: RpcResponse) => void;
  /** Pieces of a two-way stream (port-forward, cp): data, ack, fin, entry. */
  onPiece?: (res: RpcResponse) => void;
  /** Absent for streams without a deadline. */
  timer?: NodeJS.Timeout;
}

/** A two-way stream's piece, as opposed to a log or exec chunk or the final answer. */
const isPiece = (m: RpcResponse) => m.data !== undefined || m.ack !== undefined || m.fin !== undefined || m.entry !== undefined;

/** RPC client of the master. */
export class AgentRpc {
  private readonly calls = new Map<string, Call>();

  constructor(private readonly publish: (topic: string, payload: Buffer) => Promise<void>) {}

  /** Calls `method` on `node`. With `onChunk`, a streamed answer is delivered piece by piece. */
  /** `timeoutMs` 0: no deadline (follow streams). */
  /** With `onPiece` the deadline is for the first answer only: a two-way stream may then stay quiet as long as it likes. */
  call(
    node: string,
    method: RpcRequest['method'],
    params: Record<string, unknown>,
    opts: { timeoutMs?: number; onChunk?: (chunk: string, res: RpcResponse) => void; onPiece?: (res: RpcResponse) => void } = {},
  ): { id: string; done: Promise<unknown> } {
    const id = randomBytes(8).toString('hex');
    const timeoutMs = opts.timeoutMs ?? 10_000;
    const done = new Promise<unknown>((resolve, reject) => {
      const timer =
        timeoutMs > 0 ? setTimeout(() => this.fail(id, new SkiffError('SKIFF_ERR_TIMEOUT', `node ${node} did not answer ${method} within ${timeoutMs / 1000}s`)), timeoutMs) : undefined;
      this.calls.set(id, { node, resolve, reject, onChunk: opts.onChunk, onPiece: opts.onPiece, timer });
    });
    const req: RpcRequest = { id, method, params };
    this.publish(topics.nodeRpcReq(node, id), encode(req)).catch((err) => this.fail(id, err));
    return { id, done };
  }

  /** Sends a piece into an open two-way stream (on the stream's own topic, so pieces arrive in order). */
  input(id: string, piece: object): void {
    const c = this.calls.get(id);
    if (!c) return;
    this.publish(topics.nodeRpcReq(c.node, id), encode({ id, method: 'input', params: { ...piece, ref: id } } satisfies RpcRequest)).catch(() => undefined);
  }

  /** Ends a streamed call (the agent is told to stop). */
  cancel(id: string): void {
    const c = this.calls.get(id);
    if (!c) return;
    this.publish(topics.nodeRpcReq(c.node, id + '-cancel'), encode({ id: id + '-cancel', method: 'cancel', params: { ref: id } } satisfies RpcRequest)).catch(() => undefined);
    this.finish(id, undefined);
  }

  /** An answer from `node`. Answers from another node than the one called are ignored. */
  onResponse(node: string, m: RpcResponse): void {
    const c = this.calls.get(m.id);
    if (!c || c.node !== node) return;
    if (!m.ok) return this.fail(m.id, SkiffError.fromWire(m.error ?? { code: 'SKIFF_ERR_INTERNAL', message: 'agent error' }));
    if (c.onPiece && isPiece(m)) {
      clearTimeout(c.timer);
      c.timer = undefined;
      c.onPiece(m);
      if (!m.done) return;
    }
    if (m.chunk !== undefined) {
      c.onChunk?.(m.chunk, m); // the whole message too: exec chunks say which stream they are
      c.timer?.refresh(); // a live stream stays open as long as chunks come
      if (!m.done) return;
    }
    this.finish(m.id, m.result);
  }

  /** Fails every call to a node that went away. */
  nodeGone(node: string): void {
    for (const [id, c] of this.calls) if (c.node === node) this.fail(id, new SkiffError('SKIFF_ERR_UNAVAILABLE', `node ${node} went offline`));
  }

  private finish(id: string, v: unknown): void {
    const c = this.calls.get(id);
    if (!c) return;
    clearTimeout(c.timer);
    this.calls.delete(id);
    c.resolve(v);
  }

  private fail(id: string, e: Error): void {
    const c = this.calls.get(id);
    if (!c) return;
    clearTimeout(c.timer);
    this.calls.delete(id);
    c.reject(e);
  }
}

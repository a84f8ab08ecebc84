/**
 * The agent's RPC endpoint: `nodes/<node>/rpc/<id>/req` → `.../rpc/<id>/res`, answered in the codec of the
 * request. Methods by name in one map; a malformed request gets one log line and, when it has an id,
 * a SKIFF_ERR_BAD_REQUEST answer.
 */
import { decodeObject, encode, type Codec } from '../../protocol/codec.js';
import { SkiffError, toWireError } from '../../protocol/errors.js';
import type { RpcRequest, RpcResponse } from '../../protocol/messages.js';
import type { Logger } from '../log.js';
import { serveLogs, type Follower, type LogsContext } from './logs.js';
import { serveExec } from './exec.js';
import { servePortForward } from './portforward.js';
import { serveCopy } from './cp.js';
import type { DriverSet } from '../drivers/registry.js';
import type { UpgradeReceiver } from '../upgrade/receiver.js';
import { deleteVolume } from './volume.js';

/** What the methods read: the pods, their log files, the drivers (exec), and where local-path volumes live. */
export interface RpcContext extends LogsContext {
  drivers: DriverSet;
  volumeDir: string;
}

type Reply = (r: Omit<RpcResponse, 'id'>) => void;
type Method = (server: RpcServer, id: string, params: Record<string, unknown>, reply: Reply) => void;

const methods: Partial<Record<RpcRequest['method'], Method>> = {
  logs: (s, id, params, reply) => {
    const f = serveLogs(s.ctx, params, reply);
    if (f) s.followers.set(id, f);
  },
  exec: (s, id, params, reply) => s.followers.set(id, serveExec(s.ctx.pods, s.ctx.drivers, params, reply)),
  portForward: (s, id, params, reply) => s.followers.set(id, servePortForward(s.ctx.pods, params, reply)),
  cp: (s, id, params, reply) => s.followers.set(id, serveCopy(s.ctx.pods, params, reply)),
  // A piece for an open two-way stream; none is answered (a piece for a stream that ended is dropped).
  input: (s, _id, params) => void s.followers.get(String(params.ref))?.input?.(params),
  volumeDelete: (s, _id, params, reply) => {
    deleteVolume(s.ctx.volumeDir, params).then(
      (result) => reply({ ok: true, result }),
      (err) => reply({ ok: false, error: toWireError(err) }),
    );
  },
  upgrade: (s, _id, params, reply) => {
    if (!s.upgrade) throw new SkiffError('SKIFF_ERR_UNAVAILABLE', 'this agent takes no upgrades');
    s.upgrade.handle(params).then(
      (result) => reply({ ok: true, result }),
      (err) => reply({ ok: false, error: toWireError(err) }),
    );
  },
  cancel: (s, _id, params, reply) => {
    const ref = params.ref;
    if (typeof ref !== 'string') throw new SkiffError('SKIFF_ERR_BAD_REQUEST', 'params.ref: required');
    const f = s.followers.get(ref);
    if (!f) throw new SkiffError('SKIFF_ERR_NOT_FOUND', `no stream with id "${ref}"`);
    f.stop();
    reply({ ok: true, result: { cancelled: ref } });
  },
};

/** Serves RPCs. */
export class RpcServer {
  /** Live streams by request id. */
  readonly followers = new Map<string, Follower>();

  constructor(
    readonly ctx: RpcContext,
    private readonly publish: (id: string, payload: Buffer) => void,
    private readonly log: Logger,
    /** The fleet upgrade's receiving end (upgrade/receiver.ts). */
    readonly upgrade?: UpgradeReceiver,
  ) {}

  /** Handles the request published on `rpc/<topicId>/req`. */
  handle(topicId: string, payload: Buffer): void {
    let codec: Codec = 'msgpack';
    let req: RpcRequest;
    try {
      const d = decodeObject<RpcRequest>(payload);
      codec = d.codec;
      req = d.value;
    } catch (err) {
      this.log.warn(`rpc ${topicId}: dropped: ${(err as Error).message}`);
      return;
    }
    const id = typeof req.id === 'string' && req.id ? req.id : topicId;
    const reply: Reply = (r) => {
      this.publish(topicId, encode({ id, ...r }, codec));
      if (r.done) this.followers.delete(id);
    };
    try {
      const params = req.params !== null && typeof req.params === 'object' && !Array.isArray(req.params) ? req.params : {};
      const m = methods[req.method];
      if (!m) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `method ${JSON.stringify(req.method)} is not served by this agent (it serves: ${Object.keys(methods).join(', ')})`);
      m(this, id, params, reply);
    } catch (err) {
      if (!(err instanceof SkiffError)) this.log.error(`rpc ${id}: ${(err as Error).stack ?? err}`);
      reply({ ok: false, error: toWireError(err) });
    }
  }

  /** Ends every stream. */
  close(): void {
    for (const f of [...this.followers.values()]) f.stop();
    this.followers.clear();
  }
}

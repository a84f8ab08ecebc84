/**
 * Joining: an agent authenticated with the join token asks on `join/{node}/req` and gets its own node
 * credential on `join/{node}/res`. A name that has joined before is refused while its Node object
 * exists, so the join token alone cannot take over a running node.
 */
import { Checker, SkiffError, decodeObject, encode, toWireError, topics, type JoinRequest, type JoinResponse } from '../../protocol/index.js';
import type { Credentials } from '../credentials.js';
import type { ControllerContext } from '../controllers/types.js';

/** Handles one join request from `node`. */
export async function onJoinRequest(
  ctx: ControllerContext,
  credentials: Credentials,
  publish: (topic: string, payload: Buffer) => Promise<void>,
  node: string,
  payload: Buffer,
): Promise<void> {
  let res: JoinResponse;
  try {
    const { value } = decodeObject<JoinRequest>(payload);
    const c = new Checker(`join ${node}`);
    if (c.object(value.facts, 'facts', true)) {
      c.string(value.facts.arch, 'facts.arch', true);
      c.string(value.facts.hostname, 'facts.hostname', true);
    }
    c.labels(value.labels, 'labels');
    c.throwIfAny();
    if (node === 'admin') throw new SkiffError('SKIFF_ERR_JOIN_REJECTED', 'the node name "admin" is reserved');
    const exists = !!ctx.informers.get('Node', undefined, node);
    const credential = await credentials.issueNode(node, !exists);
    ctx.events.object('Node', undefined, node, 'Normal', 'Joined', `Node ${node} joined (${value.facts.arch}, ${value.facts.hostname})`);
    res = { ok: true, node, credential };
  } catch (err) {
    ctx.log.warn('join refused', { node, err });
    res = { ok: false, error: toWireError(err) };
  }
  await publish(topics.joinRes(node), encode(res));
}

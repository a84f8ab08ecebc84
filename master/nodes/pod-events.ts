/**
 * Events an agent reports about its pods (kubelet's events: Started, BackOff, Killing, Unhealthy, pulls),
 * carried in `nodes/{node}/pods` messages. An agent speaks only for pods bound to its own node, with a
 * reason from the agent catalogue (protocol/event.ts); each event becomes a Pod Event with source
 * `skiff-agent` on that node. What breaks a rule is dropped, counted and logged once a message.
 */
import { agentEventReasons, containerFieldPath, isAgentEventReason, type PodEventReport } from '../../protocol/index.js';
import type { ControllerContext } from '../controllers/types.js';

/** At most this many events are taken from one message (an agent folds repeats, so this is a storm). */
export const maxEventsPerMessage = 200;
/** Messages longer than this are cut (kubelet's events carry a probe's output, which can be long). */
export const maxMessageChars = 1024;

/** Why a report was dropped, or undefined when it may be recorded. */
function refusal(ctx: ControllerContext, node: string, e: PodEventReport): string | undefined {
  if (!e || typeof e !== 'object') return 'not an object';
  if (typeof e.namespace !== 'string' || typeof e.name !== 'string' || typeof e.uid !== 'string') return 'namespace, name and uid must be strings';
  if (!isAgentEventReason(e.reason)) return `reason "${String(e.reason).slice(0, 40)}" is not one agents report`;
  if (typeof e.message !== 'string') return 'message must be a string';
  if (e.container !== undefined && typeof e.container !== 'string') return 'container must be a string';
  if (e.count !== undefined && (!Number.isInteger(e.count) || e.count < 1)) return 'count must be an integer ≥ 1';
  const pod = ctx.informers.get('Pod', e.namespace, e.name);
  // An agent speaks only for the pods bound to it (NodeRestriction), and only for this incarnation of the pod.
  if (!pod || pod.metadata.uid !== e.uid || pod.spec.nodeName !== node) return 'not a pod of this node';
  if (e.container !== undefined && !pod.spec.containers.some((c) => c.name === e.container)) return `container "${e.container.slice(0, 63)}" is not in the pod`;
  return undefined;
}

/** Records the events of one `pods` message from `node`. */
export function recordPodEvents(ctx: ControllerContext, node: string, reports: unknown): void {
  if (!Array.isArray(reports)) return;
  let dropped = 0;
  let why: string | undefined;
  for (const [i, e] of (reports as PodEventReport[]).entries()) {
    const no = i >= maxEventsPerMessage ? `more than ${maxEventsPerMessage} events in one message` : refusal(ctx, node, e);
    if (no) {
      dropped++;
      why ??= no;
      continue;
    }
    ctx.events.report({
      involvedObject: { kind: 'Pod', apiVersion: 'v1', namespace: e.namespace, name: e.name, uid: e.uid, ...(e.container ? { fieldPath: containerFieldPath(e.container) } : {}) },
      type: agentEventReasons[e.reason as keyof typeof agentEventReasons],
      reason: e.reason,
      message: e.message.length > maxMessageChars ? e.message.slice(0, maxMessageChars - 3) + '...' : e.message,
      source: { component: 'skiff-agent', host: node },
      count: e.count ?? 1,
    });
  }
  if (dropped) ctx.log.warn('pod events from a node dropped', { node, dropped, reason: why });
}

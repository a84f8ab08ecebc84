/**
 * Events as objects: the core/v1 Event shape (involvedObject, reason, message, type, count,
 * firstTimestamp, lastTimestamp, source), and the reasons the agents may report about their pods —
 * kubelet's names, so `kubectl`-trained eyes and alert rules read them as they know them. The master
 * records events; nobody applies them (docs/observability.md, "Events").
 */
import type { KObject } from './types.js';

/** A reference to the object an event is about (core/v1 ObjectReference). */
export interface ObjectReference {
  kind: string;
  namespace?: string;
  name: string;
  uid?: string;
  apiVersion?: string;
  /** Which part of the object: `spec.containers{web}` for a container's events. */
  fieldPath?: string;
}

/** Who reported an event (core/v1 EventSource). */
export interface EventSource {
  /** `skiff-master`, `default-scheduler`, `skiff-agent`, a controller's name. */
  component: string;
  /** The node, for events an agent reported. */
  host?: string;
}

/** core/v1 Event. Repeats of one event raise `count` and move `lastTimestamp`, as Kubernetes' event correlator does. */
export interface Event extends KObject {
  kind: 'Event';
  involvedObject: ObjectReference;
  reason: string;
  message: string;
  type: 'Normal' | 'Warning';
  count: number;
  /** RFC 3339: when this event was first seen. */
  firstTimestamp: string;
  /** RFC 3339: when it was last seen. */
  lastTimestamp: string;
  source: EventSource;
  reportingComponent?: string;
  reportingInstance?: string;
}

/**
 * The reasons an agent may report about its pods, with the type of each: kubelet's event reasons
 * (pkg/kubelet/events/event.go). The master refuses any other reason from an agent, so a board cannot
 * invent reasons (and the `reason` label of the event metrics stays bounded).
 */
export const agentEventReasons = {
  /** An image pull started (container driver). */
  Pulling: 'Normal',
  /** An image is present (pulled, or already there). */
  Pulled: 'Normal',
  /** A pull, a container start or its configuration failed. */
  Failed: 'Warning',
  /** A pull or a crashed container waits for its back-off (ImagePullBackOff, CrashLoopBackOff). */
  BackOff: 'Warning',
  /** A container attempt started. */
  Started: 'Normal',
  /** A container is being stopped: the pod is deleted, or a liveness/startup probe failed. */
  Killing: 'Normal',
  /** A probe check failed (each failure, counted; the container is killed only past failureThreshold). */
  Unhealthy: 'Warning',
  /** Probe output that was not a clear result (kubelet's ProbeWarning). */
  ProbeWarning: 'Warning',
  /** Skiff's own: the pod has resources.limits its node cannot enforce (the node's ResourceLimits condition says why); it runs unlimited. */
  LimitsNotEnforced: 'Warning',
} as const satisfies Record<string, Event['type']>;

/** A reason an agent may report. */
export type AgentEventReason = keyof typeof agentEventReasons;

/** True when `r` is a reason agents may report (a Map-free own-key check: `r` is the client's string). */
export function isAgentEventReason(r: unknown): r is AgentEventReason {
  return typeof r === 'string' && Object.prototype.hasOwnProperty.call(agentEventReasons, r);
}

/** `spec.containers{NAME}`: the fieldPath of a container's events, as kubelet writes it. */
export function containerFieldPath(container: string): string {
  return `spec.containers{${container}}`;
}

/** The OBJECT column of `skiff get events`: `pod/web-1`, `node/pi-1` (kind lower-cased, as kubectl). */
export function involvedObjectName(ref: Pick<ObjectReference, 'kind' | 'name'>): string {
  return `${ref.kind.toLowerCase()}/${ref.name}`;
}

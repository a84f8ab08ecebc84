/** Vocabulary of the probe step: what one check returns, what it may read, and the three kinds of probe. */
import type { PodPortStatus } from '../../protocol/types.js';

/** liveness restarts, readiness gates Ready, startup gates the other two (Kubernetes' three probes). */
export type ProbeKind = 'liveness' | 'readiness' | 'startup';

/** The outcome of one check; `message` says why it failed (it ends up in lastState and the agent log). */
export interface ProbeOutcome {
  ok: boolean;
  message?: string;
}

/**
 * One check of one probe handler. It must give up when `signal` aborts (the worker's timeoutSeconds ran out)
 * and never reject: a broken check is a failed outcome.
 */
export type ProbeCheck = (signal: AbortSignal) => Promise<ProbeOutcome>;

/** What a handler needs to know of its container: where it listens and how it runs. */
export interface ProbeTarget {
  containerName: string;
  /** Host to probe when the probe names none: loopback, since process pods share the host network. */
  host: string;
  /** Ports the agent bound for the pod (named ports resolve here, `port: http` → the allocated PORT_HTTP). */
  ports: PodPortStatus[];
  /** The container's resolved environment: exec probes run with it, as kubelet runs them inside the container. */
  env: Record<string, string>;
  workingDir?: string;
  /** The container's user (runAsUser): exec probes run as it. */
  user?: { uid: number; gid: number };
}

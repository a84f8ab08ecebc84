/**
 * Payloads on the topic tree (see topics.ts). Master, agent and CLI agree on these shapes and on nothing
 * else. All are msgpack on the wire unless a plain MQTT client sent JSON.
 */
import type { UpgradeProgress } from './upgrade.js';
import type { WireError } from './errors.js';
import type { Condition, KObject, NodeAddress, NodeResources, Pod, PodStatus, StringMap, Taint } from './types.js';

/** Facts an agent reads off its board. */
export interface NodeFacts {
  hostname: string;
  /** Kubernetes arch names: amd64, arm64, arm. */
  arch: string;
  /** linux, darwin, ... */
  os: string;
  kernel: string;
  osImage?: string;
  cpus: number;
  memoryBytes: number;
  agentVersion: string;
  nodeVersion: string;
  /** The board's model (`Raspberry Pi 4 Model B Rev 1.4`, from the device tree; DMI product name on PCs), when known. */
  boardModel?: string;
  /** `v2` (unified), `v1` (v1 or hybrid hierarchies) or `none`. */
  cgroupVersion?: string;
}

/** `nodes/{node}/status`, retained. The Will is `{node, online: false}`. */
export interface NodeStatusMessage {
  node: string;
  online: boolean;
  /** ms since epoch at the agent. */
  ts?: number;
  facts?: NodeFacts;
  capacity?: NodeResources;
  allocatable?: NodeResources;
  labels?: StringMap;
  taints?: Taint[];
  addresses?: NodeAddress[];
  /** Drivers available on the node: process, container, wasi. */
  runtimes?: string[];
  /** The container engine that answered, as `<engine>://<version>` (`podman://4.3.1`, `docker://24.0.7`). */
  containerRuntime?: string;
  /** Agent-side conditions (MemoryPressure, DiskPressure, CgroupLimits, ...). */
  conditions?: Condition[];
  /** Where local-path volumes live on this node (absolute; the agent's --volume-dir). */
  volumeDir?: string;
}

/**
 * The longest an agent waits between two connection attempts by default (its back-off cap, full jitter:
 * edge-agent/session.ts). A master that just started gives a node this much on top of its grace period
 * before it counts the node's silence: every agent is somewhere in its back-off when the master comes up.
 */
export const agentReconnectMaxMs = 5_000;

/**
 * `nodes/{node}/lease`: a heartbeat, sent only when the node published nothing else for the lease period (2 s,
 * 4 s when quiet: edge-agent/telemetry.ts); every message of a node counts as a heartbeat at the master.
 */
export interface LeaseMessage {
  /** ms since epoch at the agent (older agents; newer ones leave it out: the master reads the arrival time). */
  ts?: number;
  /** The desired generation the agent has applied. */
  generation?: number;
  /**
   * The lease interval the agent follows now, ms: max(its --lease-interval, what the master assigned on
   * `cluster/lease`). Agents that read the assignment say it in every lease; the master scales the node's grace
   * with it (master/nodes/lease-interval.ts). Absent from older agents: their grace stays --node-monitor-grace.
   */
  intervalMs?: number;
}

/** `nodes/{node}/desired`, retained: the full desired pod set of a node (level-triggered). */
export interface DesiredMessage {
  /** Rises with every change; an agent ignores a message older than the one it has. */
  generation: number;
  /** Pods with metadata and spec (status is the agent's to report). */
  pods: Pod[];
  /** ConfigMaps and Secrets the pods reference, by `namespace/name`, so a pod can start offline. */
  configMaps?: Record<string, KObject>;
  secrets?: Record<string, KObject>;
  /**
   * The volumes bound to the claims the pods use, by `namespace/claim`: the directory on this node (created when
   * `type` is DirectoryOrCreate). A claim not bound yet is absent: its pod waits (CreateContainerConfigError).
   */
  volumes?: Record<string, ClaimVolume>;
  /** Services in the pods' namespaces for `{NAME}_SERVICE_HOST/PORT` env vars. */
  services?: Record<string, { host: string; ports: { name?: string; port: number; protocol: string }[] }>;
  /**
   * uids of this node's pods that ran to the end (Succeeded or Failed) and still exist as objects: the
   * agent keeps their logs, and removes a pod's logs once its uid is in neither list.
   */
  keepLogs?: string[];
  /**
   * uids of this node's pods being deleted (deletionTimestamp set). An agent that does not run one — it never
   * got the pod (bound and deleted between two sets) or a previous run reaped it — reports it gone at once,
   * so the deletion finishes; one it runs is stopped (it left `pods`) and reported gone when it has. The
   * kubelet sees a deletion through its watch the same way.
   */
  terminating?: string[];
  /** The master sends deltas to an agent that asks for them (`resync`); an agent never asks a master that does not say so. */
  deltas?: boolean;
}

/** A claim's volume on a node: the PersistentVolume's name and directory. */
export interface ClaimVolume {
  volume: string;
  path: string;
  /** DirectoryOrCreate (local-path, hostPath volumes) or Directory (a `local` volume must exist). */
  type: 'DirectoryOrCreate' | 'Directory';
}

/**
 * `nodes/{node}/desired` to an agent that asked for deltas (`resync`): what changed since generation `base`.
 * The agent applies it only when it holds exactly `base`; otherwise it asks for the full set again.
 */
export interface DesiredDelta {
  delta: true;
  /** The generation this delta is on top of. */
  base: number;
  /** The generation the agent holds once it applied the delta (> base). */
  generation: number;
  /** Pods added or changed, whole (metadata and spec). */
  pods?: Pod[];
  /** uids of pods no longer wanted. */
  removed?: string[];
  /** Changed entries by `namespace/name`; null: the entry is gone. */
  configMaps?: Record<string, KObject | null>;
  secrets?: Record<string, KObject | null>;
  services?: Record<string, NonNullable<DesiredMessage['services']>[string] | null>;
  volumes?: Record<string, ClaimVolume | null>;
  /** The whole keepLogs list, when it changed. */
  keepLogs?: string[];
  /** The whole terminating list, when it changed. */
  terminating?: string[];
}

/** `nodes/{node}/resync`: the agent wants the full desired set; `generation` is the one it holds (-1: none). */
export interface DesiredResync {
  generation: number;
}

/** One pod's status as reported by its agent. */
export interface PodReport {
  namespace: string;
  name: string;
  uid: string;
  status: PodStatus;
}

/** `nodes/{node}/pods`: batched pod status changes; `full` when it lists every pod the agent runs. */
export interface PodsMessage {
  pods: PodReport[];
  full?: boolean;
  /** uids the agent has stopped and forgotten (deleted pods), so the master can finish deletions. */
  gone?: string[];
  /** The desired generation these reports answer to. */
  generation?: number;
  /** With the first full report after a reconnect: what the agent did while it had no master. */
  offline?: OfflineReport;
  /** Events the agent observed about its pods since the last report (kubelet's events), repeats folded into `count`. */
  events?: PodEventReport[];
}

/**
 * One event an agent observed about one of its pods: a container started, a probe failed, a back-off.
 * `reason` is one of protocol/event.ts `agentEventReasons`; times are the agent's clock (ms since epoch).
 */
export interface PodEventReport {
  namespace: string;
  name: string;
  uid: string;
  /** The container, when the event is about one. */
  container?: string;
  reason: string;
  message: string;
  /** How many times it happened since the last report (≥ 1). */
  count: number;
  firstTs: number;
  lastTs: number;
}

/** What an agent did while it could not reach the master (sent once, when it is back). */
export interface OfflineReport {
  /** ms without a connection: since it was lost, or since the agent started from its cache. */
  forMs: number;
  /** Pods started from the on-disk desired cache before the master was reachable (after a reboot). */
  startedFromCache: number;
  /** Container restarts while offline, per pod (their restartCount in the full report already counts them). */
  restarts: { namespace: string; name: string; uid: string; count: number }[];
}

/** `nodes/{node}/metrics`. cpuMilli is the rate since the previous sample; cpuSeconds are cumulative counters (Prometheus). */
export interface MetricsMessage {
  ts: number;
  /** Which balancer implementation the agent's service proxy runs (absent without a proxy); the node condition WasmBalancer says why when it is not wasm. */
  balancer?: 'wasm' | 'reference';
  /**
   * Only what moved since the last message: the pods listed (and the node sample, when present) replace the
   * master's; the others keep theirs, and are fresh again. Without `delta` the message is the node's whole word.
   */
  delta?: true;
  /** Absent in a delta whose node sample did not move. */
  node?: { cpuMilli: number; memoryBytes: number; cpuSeconds?: number };
  pods: { namespace: string; name: string; uid: string; cpuMilli: number; memoryBytes: number; cpuSeconds?: number; containers?: ContainerSample[] }[];
}

/** One container's usage: cpu seconds used by its running process tree (a counter; it restarts at 0 with the container) and its resident memory. */
export interface ContainerSample {
  name: string;
  cpuSeconds: number;
  memoryBytes: number;
}

/**
 * `join/{session}/req`, first step: who joins and how to answer (protocol/join.ts). Sent with username = node
 * name and password = connectKey(join token). Nothing in it is secret.
 */
export interface JoinHello {
  step: 'hello';
  node: string;
  /** The joiner's 256-bit nonce (base64url). */
  nonce: string;
  /** The joiner's ephemeral X25519 public key (raw, base64url): the credential is sealed to it. */
  key: string;
  /** `host:port` the joiner dialled; checked by the master when `discovered` (a relay at another address is refused). */
  dialled: string;
  /** True when the joiner found the master by mDNS rather than being told its address. */
  discovered: boolean;
  facts: NodeFacts;
  /** Labels the operator gave at join (--labels); the NodeRestriction rule applies (docs/protocol.md). */
  labels?: StringMap;
  /** A PKCS#10 request (PEM, CN = node) for the node's client certificate, signed by the cluster CA at join. */
  csr?: string;
}

/** What the master seals to the joiner in a successful result: the node credential and its certificate. */
export interface JoinGrant {
  credential: string;
  /** The node certificate (PEM) signed for the hello's CSR. */
  cert?: string;
}

/** `nodes/{node}/csr`: agent → master, a request for the node's next certificate (renewal, docs/security.md). */
export interface CertRequest {
  /** Echoed in the answer. */
  id: string;
  /** PKCS#10, PEM, CN = node. */
  csr: string;
}

/** `nodes/{node}/cert`: master → agent, the answer to a CertRequest. */
export type CertResponse = { id: string; ok: true; cert: string } | { id: string; ok: false; error: WireError };

/** `join/{session}/res`: the master's nonce and its proof that it knows the join token. */
export interface JoinChallenge {
  step: 'challenge';
  nonce: string;
  proof: string;
}

/** `join/{session}/req`, second step: the joiner's proof that it knows the join token. */
export interface JoinProof {
  step: 'proof';
  proof: string;
}

/** `join/{session}/res`, last: the credential sealed to the joiner's key, or why not (`retryAfterMs` when rate-limited). */
export type JoinResult =
  | { step: 'result'; ok: true; node: string; key: string; iv: string; sealed: string }
  | { step: 'result'; ok: false; error: WireError; retryAfterMs?: number };

/** `nodes/{node}/rpc/{id}/req`: master → agent. */
export interface RpcRequest {
  id: string;
  /** `input` carries a StreamPiece (`params: {ref, ...piece}`) into the open stream `ref` (port-forward, cp, an interactive exec). */
  method: 'logs' | 'exec' | 'describe' | 'cancel' | 'portForward' | 'cp' | 'input' | 'upgrade' | 'volumeDelete';
  params: Record<string, unknown>;
}

/** `nodes/{node}/rpc/{id}/res`: one answer, or a stream of `chunk`s ending with `done`. */
export interface RpcResponse {
  id: string;
  ok: boolean;
  result?: unknown;
  error?: WireError;
  /** A piece of a streamed answer (log lines, exec output). */
  chunk?: string;
  /** Which output of an `exec` the chunk is (absent for logs). */
  stream?: 'stdout' | 'stderr';
  /** Last message of a stream. */
  done?: boolean;
  /** Pieces of a two-way stream (port-forward, cp, interactive exec): see StreamPiece. */
  data?: Uint8Array;
  ack?: number;
  fin?: boolean;
  entry?: CopyEntry;
  resize?: TerminalSize;
}

/** A terminal's size in characters. */
export interface TerminalSize {
  rows: number;
  cols: number;
}

/**
 * One message of a two-way byte stream between the CLI and an agent, relayed by the master (port-forward,
 * cp, an interactive exec). Flow control is by credit (protocol/flow.ts): a sender keeps at most a window of unacknowledged
 * bytes in flight and the receiver acknowledges what it has written out, so every hop holds a bounded amount.
 */
export interface StreamPiece {
  /** Bytes (at most a chunk, flow.ts). */
  data?: Uint8Array;
  /** The sender of this piece has written out this many more bytes it received. */
  ack?: number;
  /** The sender has no more data (a TCP half-close, or the end of a copy). */
  fin?: boolean;
  /** cp: the file or directory the following data belongs to. */
  entry?: CopyEntry;
  /** Interactive exec, client → agent: the terminal's new size (the command gets SIGWINCH). */
  resize?: TerminalSize;
  /** Interactive exec without a terminal, agent → client: which output `data` is (stdout when absent). */
  stream?: 'stdout' | 'stderr';
}

/** cp: one file or directory of a copy, relative to the copy's root; a file's data follows it. */
export interface CopyEntry {
  path: string;
  type: 'file' | 'dir';
  /** Permission bits (0o644, ...). */
  mode: number;
  /** A file's size in bytes. */
  size?: number;
}

/** The API verbs of `api/{clientId}/req`. */
export type ApiVerb =
  | 'apply' | 'get' | 'list' | 'delete' | 'scale' | 'logs' | 'watch' | 'cancel' | 'describe' | 'cordon' | 'uncordon' | 'drain' | 'rollout' | 'token' | 'jointoken' | 'top' | 'exec' | 'version' | 'backup'
  | 'patch' | 'portforward' | 'cp' | 'input' | 'can-i' | 'whoami' | 'secrets' | 'upgrade';

/** `api/{clientId}/req`. Params by verb:
 * - apply: `{manifest: string}` (YAML/JSON text) or `{objects: KObject[]}`; `namespace?` default for objects without one;
 *   `dryRun?: true` (validated, defaulted and admitted, nothing stored; the results carry `object`); `create?: true` (fail if it exists, kubectl create);
 *   `echo?: true` (the results carry the stored `object`); `atomic?: true` (every document is stored in one transaction, or none:
 *   a refused document fails them all, the others with "not applied: the apply is atomic and ... was refused")
 * - get: `{kind, name, namespace?}` → the object
 * - list: `{kind, namespace?, allNamespaces?, labelSelector?, fieldSelector?}` → `{kind: 'List', items, metadata: {resourceVersion}}` (Events sorted by lastTimestamp)
 * - patch: `{kind, name, namespace?, patch: object (JSON merge patch, RFC 7386), dryRun?}` → the object; a `metadata.resourceVersion` in the patch is a precondition
 * - portforward: `{name, namespace?, port: number | string}` → a stream of StreamPieces both ways (send yours with `input`)
 * - cp: `{name, namespace?, container?, path, direction: 'from' | 'to'}` → a stream of StreamPieces (entries and data) both ways
 * - input: `{ref, ...StreamPiece}`: a piece into the portforward, cp or interactive exec stream `ref` of this client; no answer
 * - delete: `{kind, name, namespace?, cascade?: 'background' | 'orphan'}`
 * - scale: `{kind, name, namespace?, replicas}`
 * - logs: `{name, namespace?, container?, previous?, follow?, tailLines?, sinceSeconds?, sinceTime?, timestamps?}` → text, or chunks when follow
 * - watch: `{kind, namespace?, allNamespaces?, labelSelector?, fieldSelector?, resourceVersion?}` → a stream of `{event: {type, object}}` (from a resourceVersion: only the changes after it; docs/protocol.md)
 * - exec: `{name, namespace?, container?, command: string[], timeoutSeconds?}` → chunks `{chunk, stream: 'stdout' | 'stderr'}`,
 *   then `{result: {exitCode, signal?}}`, then `done` (no stdin, no TTY; a deadline, 300 s by default, or a cancel kills it).
 *   With `stdin: true` and/or `tty: true` (`rows?`, `cols?`: the terminal's size) it is interactive, a two-way stream
 *   as portforward's: first `{ack: 0}` (the command runs: send input from now on), then StreamPieces both ways under
 *   credit — the agent's `data` (with `stream: 'stderr'` for stderr when there is no terminal), the client's `data`
 *   (stdin; a terminal's Ctrl-C and Ctrl-D are bytes like any other), `resize` and `fin` (stdin closed) through
 *   `input` —, then `{result: {exitCode}}` and `done`. No deadline unless `timeoutSeconds` is given
 * - cancel: `{ref}` ends the stream of request `ref`
 * - top: `{kind: 'Node' | 'Pod', namespace?, allNamespaces?, history?}` → `{items}`; with `history` (nodes) each item
 *   carries the last hour of samples `{t, cpuMilli, memoryBytes}` (the dashboard's charts)
 * - whoami: `{}` → `{name, role, access, verbs}`: who the caller is and which verbs it may use (the dashboard hides
 *   what it may not do)
 * - upgrade (admin): `{bundle, nodes? | selector? | all?, maxUnavailable?, timeoutSeconds?, trialSeconds?}` → `{progress}` parts,
 *   then `{result: {version, sha256, nodes}}`, then `done` (protocol/upgrade.ts, docs/edge.md)
 * - describe: `{kind, name, namespace?}` → `{object, events}`
 * - rollout: `{action: 'status' | 'history' | 'undo' | 'restart' | 'pause' | 'resume', kind: 'Deployment', name, namespace?, toRevision?, revision?}`
 *   (status → `{message, done, failed?}`; history → `{revisions}`; the others → `{message}`)
 * - jointoken (admin): `{action: 'create', name?, ttlSeconds?, uses?}` → `{name, token, expiresAt?}`; `{action: 'list'}` →
 *   `{items}`; `{action: 'revoke', name}` (docs/security.md "Join tokens")
 * - can-i: `{action (a kubectl verb — get, list, watch, create, update, patch, delete — or an API verb), kind, namespace?,
 *   subresource?, as? (a token's name: admin only)}` → `{allowed, reason}`, from the same rule table every request meets
 * - token (cluster admin): `{action: 'create' | 'list' | 'revoke' | 'rotate-join', name?, access?, namespace?, nodes?}`
 * - secrets (cluster admin): `{action: 'rotate-key'}` → `{key, secrets}`: a new encryption key, every Secret re-sealed, the old key dropped
 * - backup (admin): `{}` → chunks `{chunk}` (base64 of a backup file's bytes, in order), then
 *   `{result: {revision, keys, bytes}}`, then `done` (the file format: docs/state.md)
 */
export interface ApiRequest {
  id: string;
  verb: ApiVerb;
  [param: string]: unknown;
}

/** `api/{clientId}/res`. Streams send several messages with the same id; the last has `done: true`. */
export interface ApiResponse {
  id: string;
  ok: boolean;
  result?: unknown;
  /** `records`: `result` is bytes in msgpackr records, read with `structures` (protocol/records.ts); asked for by the request's `encoding`. */
  encoding?: 'records';
  structures?: unknown;
  strings?: unknown;
  error?: WireError;
  /** A streamed piece: a watch event or log text. */
  event?: { type: 'ADDED' | 'MODIFIED' | 'DELETED'; object: KObject };
  chunk?: string;
  /** A fleet upgrade's progress (verb `upgrade`, protocol/upgrade.ts). */
  progress?: UpgradeProgress;
  /** Which output of an `exec` the chunk is (absent for logs). */
  stream?: 'stdout' | 'stderr';
  done?: boolean;
  /** Pieces of a two-way stream (portforward, cp, interactive exec): see StreamPiece. */
  data?: Uint8Array;
  ack?: number;
  fin?: boolean;
  entry?: CopyEntry;
  resize?: TerminalSize;
}

/** The outcome of one object in an apply. */
export interface ApplyResult {
  kind: string;
  namespace?: string;
  name: string;
  /** created | configured | unchanged | failed */
  action: 'created' | 'configured' | 'unchanged' | 'failed';
  error?: WireError;
  /** With `dryRun` or `echo`: the object as stored (or as it would be). */
  object?: KObject;
  /**
   * Things worth saying that did not stop the apply: `unknown field "spec.replicsa"` (protocol/explain), Pod Security
   * `warn` mode findings; printed as kubectl prints `Warning: ...`.
   */
  warnings?: string[];
}

/** `skiff/v1/events`: cluster events, including every apply's outcome. */
export interface EventMessage {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
  involvedObject?: { kind: string; namespace?: string; name: string; uid?: string };
  /** The apply outcome, for reason Applied / ApplyFailed. */
  results?: ApplyResult[];
  error?: WireError;
  /** Where the event came from: the MQTT client id for an apply, or the controller. */
  source?: string;
  /** The namespace it belongs to, when it belongs to one: it is also published on `events/{namespace}`. */
  namespace?: string;
  ts: number;
}

/** `services/{ns}/{name}`, retained: the ready endpoints of a service. */
export interface ServiceMessage {
  namespace: string;
  name: string;
  type: 'ClusterIP' | 'NodePort' | 'LoadBalancer';
  sessionAffinity: 'None' | 'ClientIP';
  /** The service's virtual address in 127.0.0.0/8 (every agent's proxy listens on it), or 'None' (headless). */
  clusterIP?: string;
  annotations?: StringMap;
  ports: { name?: string; port: number; protocol: 'TCP' | 'UDP'; targetPort: number | string; nodePort?: number }[];
  endpoints: {
    address: string;
    node: string;
    pod: string;
    ready: boolean;
    /** Resolved target port per service port name ('' for an unnamed port). */
    ports: Record<string, number>;
    /** Balancer weight 0..65535 from the pod's `service.skiff.io/weight` annotation; default 1. */
    weight?: number;
    /** The pod's hostname when its subdomain is this service: the cluster DNS answers `<hostname>.<service>.<namespace>.svc.cluster.local`. */
    hostname?: string;
  }[];
}

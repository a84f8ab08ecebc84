/**
 * The public contract of the engine (scheduler filter/score/batch placement and endpoint load
 * balancing). `core-wasm/index.ts` implements it twice: `impl: 'wasm'` (AssemblyScript in
 * assembly/) and `impl: 'reference'` (the plain-TS twin in reference/). Both must give identical
 * results. core-wasm imports nothing outside core-wasm, so the Kubernetes shapes it needs are
 * restated here (structurally compatible with protocol/types.ts).
 */

/** Integer resource amounts: cpu in millicores, memory and ephemeral storage in bytes, pods as a count. */
export interface Resources {
  cpuMilli: number;
  memoryBytes: number;
  pods: number;
  ephemeralBytes: number;
}

/** A taint (as in core/v1). */
export interface EngineTaint {
  key: string;
  value?: string;
  effect: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';
}

/** A toleration (as in core/v1). */
export interface EngineToleration {
  key?: string;
  operator?: 'Equal' | 'Exists';
  value?: string;
  effect?: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';
}

/** A node selector requirement (as in core/v1 NodeSelectorRequirement). */
export interface EngineNodeRequirement {
  key: string;
  operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist' | 'Gt' | 'Lt';
  values?: string[];
}

/** A label selector (matchLabels AND matchExpressions). */
export interface EngineLabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist'; values?: string[] }[];
}

/** What the engine knows of a node. */
export interface EngineNode {
  name: string;
  allocatable: Resources;
  labels: Record<string, string>;
  taints: EngineTaint[];
  unschedulable: boolean;
  /** Drivers the node has: process, container, wasi. */
  runtimes: string[];
  /** Images already on the node (image locality score). */
  images?: string[];
}

/** What the engine knows of a pod to place (or already placed). */
export interface EnginePod {
  /** Unique key, `namespace/name`. */
  key: string;
  namespace: string;
  labels: Record<string, string>;
  /** Sum of the containers' requests. */
  requests: { cpuMilli: number; memoryBytes: number; ephemeralBytes: number };
  nodeSelector?: Record<string, string>;
  /** requiredDuringScheduling node affinity: OR of terms, each an AND of requirements. */
  requiredNodeTerms?: EngineNodeRequirement[][];
  /** preferredDuringScheduling node affinity. */
  preferredNodeTerms?: { weight: number; requirements: EngineNodeRequirement[] }[];
  tolerations?: EngineToleration[];
  /** Host ports the pod binds (TCP/UDP). */
  hostPorts?: { port: number; protocol: 'TCP' | 'UDP' }[];
  /** Required pod anti-affinity terms (selector over pods in the same namespace, per topology key). */
  antiAffinity?: { selector: EngineLabelSelector; topologyKey: string }[];
  /** Topology spread constraints. */
  topologySpread?: { maxSkew: number; topologyKey: string; whenUnsatisfiable: 'DoNotSchedule' | 'ScheduleAnyway'; selector: EngineLabelSelector }[];
  /** The driver the pod needs (process, container, wasi). */
  runtime: string;
  /** Images the pod uses (image locality score). */
  images?: string[];
}

/** Why a node was rejected for a pod. Stable codes; messages as Kubernetes prints them. */
export type ReasonCode =
  | 'InsufficientCPU'
  | 'InsufficientMemory'
  | 'InsufficientEphemeralStorage'
  | 'TooManyPods'
  | 'Unschedulable'
  | 'NodeSelectorMismatch'
  | 'UntoleratedTaint'
  | 'HostPortConflict'
  | 'PodAntiAffinity'
  | 'TopologySpread'
  | 'RuntimeUnavailable';

/** One pod's placement: a node, or none with a count of rejected nodes per reason. */
export interface Placement {
  pod: string;
  /** The chosen node's name, or null when no node fits. */
  node: string | null;
  /** The winning total score (0 when unplaced). */
  score: number;
  /** For an unplaced pod: how many nodes failed for each reason (one reason per node: the first filter that failed). */
  reasons: Partial<Record<ReasonCode, number>>;
  /** kubectl-style: `0/5 nodes are available: 3 Insufficient memory, 2 node(s) had untolerated taint {gpu: NoSchedule}.` */
  message: string;
}

/** Score plugin weights (Kubernetes defaults: each 1, except taint/affinity preferences as in kube-scheduler). */
export interface ScoreWeights {
  resources: number;
  balancedAllocation: number;
  nodeAffinity: number;
  taintToleration: number;
  topologySpread: number;
  imageLocality: number;
}

/** NodeResourcesFit scoring strategies (KubeSchedulerConfiguration scoringStrategy.type). */
export type ResourceStrategy = 'LeastAllocated' | 'MostAllocated' | 'RequestedToCapacityRatio';

/** NodeResourcesFit score weight per resource (scoringStrategy.resources), integers 0–100; 0 leaves a resource out. */
export interface ResourceWeights {
  cpu: number;
  memory: number;
  ephemeralStorage: number;
}

/** A point of the RequestedToCapacityRatio shape: utilization 0–100 (%), score 0–10. */
export interface UtilizationShapePoint {
  utilization: number;
  score: number;
}

/** Engine options. */
export interface EngineOptions {
  impl: 'wasm' | 'reference';
  /** LeastAllocated spreads (default); MostAllocated bin-packs; RequestedToCapacityRatio follows `shape`. */
  resourceStrategy?: ResourceStrategy;
  /** Default cpu 1, memory 1, ephemeralStorage 0 (kube-scheduler's defaults). */
  resourceWeights?: Partial<ResourceWeights>;
  /** RequestedToCapacityRatio only (and required there): utilization strictly increasing. */
  shape?: UtilizationShapePoint[];
  weights?: Partial<ScoreWeights>;
  /** Initial node capacity of the table; it grows as needed. */
  maxNodes?: number;
}

/** The scheduling engine. Node and pod updates are incremental; `schedule` places a batch in one call. */
export interface Engine {
  readonly impl: 'wasm' | 'reference';
  /** Adds or replaces a node (keeps the pods bound to it). Called on node changes. */
  upsertNode(node: EngineNode): void;
  /** Removes a node and forgets its pods. */
  removeNode(name: string): void;
  /** Accounts a pod already running on or assigned to a node. Called when the master learns of a binding. */
  bindPod(nodeName: string, pod: EnginePod): void;
  /** Forgets a bound pod (deleted or finished). */
  unbindPod(nodeName: string, podKey: string): void;
  /** Places pods in order, each seeing the ones before it; placed pods are bound. Called once per scheduling batch. */
  schedule(pods: EnginePod[]): Placement[];
  /** Names of the nodes in the table. */
  nodeNames(): string[];
}

/** Load-balancing algorithms of the agent's service proxy. */
export type BalancerAlgorithm = 'maglev' | 'round-robin' | 'least-connections' | 'power-of-two';

/** A service endpoint as the balancer sees it. */
export interface BalancerEndpoint {
  /** Stable identity, e.g. `10.0.0.7:8080`; Maglev hashes it. */
  id: string;
  /** Integer 0..65535, default 1; 0 keeps the endpoint but never picks it. */
  weight?: number;
}

/** Balancer options. */
export interface BalancerOptions {
  impl: 'wasm' | 'reference';
  algorithm: BalancerAlgorithm;
  /** Maglev lookup table size, a prime larger than the endpoint count (default 65537). */
  tableSize?: number;
  /** power-of-two: seed of the xorshift32 generator (default 1). */
  seed?: number;
}

/** An endpoint picker; one per service. Picks return an index into `endpoints`, or -1 when none is available. */
export interface Balancer {
  readonly impl: 'wasm' | 'reference';
  readonly algorithm: BalancerAlgorithm;
  /** The endpoints in pick-index order (Maglev: sorted by id, so the table does not depend on input order). */
  readonly endpoints: readonly BalancerEndpoint[];
  /** Replaces the endpoint set and rebuilds the table; active connection counts follow endpoint ids. Called on endpoint changes. */
  setEndpoints(endpoints: BalancerEndpoint[]): void;
  /** One pick. Maglev: by client key (string, or a u32 from `hashKey`); least-connections and power-of-two acquire a connection. */
  pick(key?: string | number): number;
  /** `pick` for many keys (Maglev) or `count` picks (the others) in one kernel call. */
  pickBatch(keysOrCount: readonly string[] | Uint32Array | number): Int32Array;
  /** Ends a connection acquired by a pick (least-connections, power-of-two; a no-op otherwise). */
  release(index: number): void;
  /** Active connections of endpoint `index` (least-connections, power-of-two). */
  active(index: number): number;
  /** The u32 hash Maglev uses for a client key. */
  hashKey(key: string): number;
}

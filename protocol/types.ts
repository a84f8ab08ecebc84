/**
 * Kubernetes-shaped object types for the kinds Skiff serves. Field names and meanings follow the
 * Kubernetes API (core/v1, apps/v1); Skiff-only additions are marked. `KindMap` ties each kind name to
 * its type, so code that names a kind (`informers.list('Pod')`) gets that type back.
 */
import type { ControllerRevision } from './resources/controllerrevision.js';
import type { Lease } from './resources/lease.js';
import type { CronJob } from './resources/cronjob.js';
import type { Event } from './event.js';
import type { DaemonSet } from './resources/daemonset.js';
import type { Endpoints } from './resources/endpoints.js';
import type { HorizontalPodAutoscaler } from './resources/hpa.js';
import type { Job } from './resources/job.js';
import type { LimitRange, ResourceQuota } from './resources/quota.js';
import type { StatefulSet } from './resources/statefulset.js';
import type { PersistentVolume, PersistentVolumeClaim, StorageClass } from './resources/storage.js';

/** Key/value string map (labels, annotations, nodeSelector, ConfigMap data). */
export type StringMap = Record<string, string>;

/** A reference from a dependent to its owner (garbage collection, cascading delete). */
export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

/** metadata of every object. */
export interface ObjectMeta {
  name: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: StringMap;
  annotations?: StringMap;
  ownerReferences?: OwnerReference[];
  /** Keys that must be removed before the object goes: a delete only sets deletionTimestamp while any is left. */
  finalizers?: string[];
}

/**
 * Any object: apiVersion, kind, metadata and the kind's own fields. `spec` and `status` are each kind's
 * to type (Pod, Deployment, ... below and in resources/); code that holds an object of unknown kind
 * narrows it by `kind` (see AnyObject) or checks what it reads.
 */
export interface KObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  spec?: unknown;
  status?: unknown;
  [field: string]: unknown;
}

/** A label selector requirement. */
export interface LabelSelectorRequirement {
  key: string;
  operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
  values?: string[];
}

/** matchLabels AND matchExpressions. */
export interface LabelSelector {
  matchLabels?: StringMap;
  matchExpressions?: LabelSelectorRequirement[];
}

/** A condition, as in every Kubernetes status. */
export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
  lastHeartbeatTime?: string;
  lastUpdateTime?: string;
}

export interface EnvVarSource {
  fieldRef?: { fieldPath: string; apiVersion?: string };
  resourceFieldRef?: { resource: string; containerName?: string; divisor?: string | number };
  configMapKeyRef?: { name: string; key: string; optional?: boolean };
  secretKeyRef?: { name: string; key: string; optional?: boolean };
}

export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: EnvVarSource;
}

export interface EnvFromSource {
  prefix?: string;
  configMapRef?: { name: string; optional?: boolean };
  secretRef?: { name: string; optional?: boolean };
}

export interface ContainerPort {
  name?: string;
  /** 0 or absent on a process pod: the agent picks a free port and passes it as PORT / PORT_<NAME>. */
  containerPort?: number;
  hostPort?: number;
  protocol?: 'TCP' | 'UDP';
}

export interface ResourceRequirements {
  requests?: { cpu?: string | number; memory?: string | number; 'ephemeral-storage'?: string | number };
  limits?: { cpu?: string | number; memory?: string | number; 'ephemeral-storage'?: string | number };
}

export interface Probe {
  exec?: { command: string[] };
  httpGet?: { path?: string; port: number | string; host?: string; scheme?: 'HTTP' | 'HTTPS'; httpHeaders?: { name: string; value: string }[] };
  tcpSocket?: { port: number | string; host?: string };
  initialDelaySeconds?: number;
  periodSeconds?: number;
  timeoutSeconds?: number;
  successThreshold?: number;
  failureThreshold?: number;
}

export interface VolumeMount {
  name: string;
  mountPath: string;
  readOnly?: boolean;
  subPath?: string;
}

/** Linux capabilities to add or drop (core/v1 Capabilities). */
export interface Capabilities {
  add?: string[];
  drop?: string[];
}

/** How a container or pod is confined: the core/v1 SecurityContext fields Pod Security checks. */
export interface SecurityContext {
  privileged?: boolean;
  /** Process pods: the agent runs the process as this user (it must be root to switch). */
  runAsUser?: number;
  runAsGroup?: number;
  runAsNonRoot?: boolean;
  allowPrivilegeEscalation?: boolean;
  capabilities?: Capabilities;
  seccompProfile?: { type: 'RuntimeDefault' | 'Localhost' | 'Unconfined'; localhostProfile?: string };
  readOnlyRootFilesystem?: boolean;
}

/** The pod-level security context: the fields that apply to every container unless it overrides them. */
export type PodSecurityContext = Pick<SecurityContext, 'runAsUser' | 'runAsGroup' | 'runAsNonRoot' | 'seccompProfile'> & { fsGroup?: number };

export interface Container {
  name: string;
  securityContext?: SecurityContext;
  image?: string;
  /** Always | IfNotPresent | Never; defaulted at admission from the image's tag (protocol/image.ts). */
  imagePullPolicy?: 'Always' | 'IfNotPresent' | 'Never';
  command?: string[];
  args?: string[];
  workingDir?: string;
  env?: EnvVar[];
  envFrom?: EnvFromSource[];
  ports?: ContainerPort[];
  resources?: ResourceRequirements;
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  startupProbe?: Probe;
  volumeMounts?: VolumeMount[];
  /**
   * Only on an init container, only `Always`: a sidecar (Kubernetes 1.29 native sidecars). It starts in its
   * place among the init containers, the next one starts once it has started, it keeps running beside the
   * app containers, restarts on its own, and is stopped after them.
   */
  restartPolicy?: 'Always';
}

export interface Toleration {
  key?: string;
  operator?: 'Equal' | 'Exists';
  value?: string;
  effect?: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';
  tolerationSeconds?: number;
}

export interface Taint {
  key: string;
  value?: string;
  effect: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';
  timeAdded?: string;
}

export interface NodeSelectorRequirement {
  key: string;
  operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist' | 'Gt' | 'Lt';
  values?: string[];
}

export interface NodeSelectorTerm {
  matchExpressions?: NodeSelectorRequirement[];
}

export interface Affinity {
  nodeAffinity?: {
    requiredDuringSchedulingIgnoredDuringExecution?: { nodeSelectorTerms: NodeSelectorTerm[] };
    preferredDuringSchedulingIgnoredDuringExecution?: { weight: number; preference: NodeSelectorTerm }[];
  };
  podAntiAffinity?: {
    requiredDuringSchedulingIgnoredDuringExecution?: { labelSelector?: LabelSelector; topologyKey: string }[];
    preferredDuringSchedulingIgnoredDuringExecution?: { weight: number; podAffinityTerm: { labelSelector?: LabelSelector; topologyKey: string } }[];
  };
}

export interface TopologySpreadConstraint {
  maxSkew: number;
  topologyKey: string;
  whenUnsatisfiable: 'DoNotSchedule' | 'ScheduleAnyway';
  labelSelector?: LabelSelector;
}

export interface Volume {
  name: string;
  emptyDir?: Record<string, unknown>;
  hostPath?: { path: string; type?: string };
  configMap?: { name: string; items?: { key: string; path: string }[]; optional?: boolean };
  secret?: { secretName: string; items?: { key: string; path: string }[]; optional?: boolean };
  /** A claim in the pod's namespace; the agent mounts the directory of the volume bound to it. */
  persistentVolumeClaim?: { claimName: string; readOnly?: boolean };
}

export interface PodSpec {
  containers: Container[];
  initContainers?: Container[];
  restartPolicy?: 'Always' | 'OnFailure' | 'Never';
  nodeName?: string;
  nodeSelector?: StringMap;
  affinity?: Affinity;
  tolerations?: Toleration[];
  topologySpreadConstraints?: TopologySpreadConstraint[];
  /** process | container | wasi (see DESIGN.md); absent: container when image is set, process otherwise. */
  runtimeClassName?: string;
  volumes?: Volume[];
  terminationGracePeriodSeconds?: number;
  hostname?: string;
  /** With hostname: the pod's DNS name is `<hostname>.<subdomain>.<namespace>.svc.cluster.local` (a headless service named subdomain). */
  subdomain?: string;
  securityContext?: PodSecurityContext;
  /** Secrets holding registry credentials for the container runtime (sent to the pod's node with its other Secrets). */
  imagePullSecrets?: { name: string }[];
  /** Host namespaces (Pod Security baseline forbids them). A process pod shares the host network whatever this says. */
  hostNetwork?: boolean;
  hostPID?: boolean;
  hostIPC?: boolean;
}

export interface ContainerState {
  waiting?: { reason?: string; message?: string };
  running?: { startedAt?: string };
  terminated?: { exitCode: number; signal?: number; reason?: string; message?: string; startedAt?: string; finishedAt?: string };
}

export interface ContainerStatus {
  name: string;
  ready: boolean;
  started?: boolean;
  restartCount: number;
  state: ContainerState;
  lastState?: ContainerState;
  image?: string;
  /** The image the runtime ran, by id (`sha256:...`); container pods only. */
  imageID?: string;
  /** `<runtime>://<id>` of the running or last attempt (`podman://3f2a...`); container pods only. */
  containerID?: string;
}

/**
 * Skiff addition: a port the agent bound on the node. Process pods: the port itself (containerPort 0 → a free
 * port). Container pods in their own network namespace: `port` is the node port published for `containerPort`.
 */
export interface PodPortStatus {
  containerName: string;
  name?: string;
  port: number;
  protocol: 'TCP' | 'UDP';
  /** The container's own port that `port` forwards to (container pods with a pod network only). */
  containerPort?: number;
}

export interface PodStatus {
  phase?: 'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Unknown';
  conditions?: Condition[];
  containerStatuses?: ContainerStatus[];
  /** The init containers' statuses, sidecars included, in spec order. */
  initContainerStatuses?: ContainerStatus[];
  /** Kubernetes' QoS class (protocol/qos.ts). */
  qosClass?: 'Guaranteed' | 'Burstable' | 'BestEffort';
  hostIP?: string;
  podIP?: string;
  startTime?: string;
  reason?: string;
  message?: string;
  /** Skiff addition: the ports bound on the node. */
  ports?: PodPortStatus[];
}

export interface Pod extends KObject {
  kind: 'Pod';
  spec: PodSpec;
  status?: PodStatus;
}

export interface PodTemplateSpec {
  metadata?: Partial<ObjectMeta>;
  spec: PodSpec;
}

export interface ReplicaSetSpec {
  replicas?: number;
  minReadySeconds?: number;
  selector: LabelSelector;
  template: PodTemplateSpec;
}

export interface ReplicaSet extends KObject {
  kind: 'ReplicaSet';
  spec: ReplicaSetSpec;
  status?: { replicas: number; readyReplicas?: number; availableReplicas?: number; fullyLabeledReplicas?: number; observedGeneration?: number; conditions?: Condition[] };
}

export interface DeploymentStrategy {
  type?: 'RollingUpdate' | 'Recreate';
  rollingUpdate?: { maxSurge?: number | string; maxUnavailable?: number | string };
}

export interface DeploymentSpec {
  replicas?: number;
  selector: LabelSelector;
  template: PodTemplateSpec;
  strategy?: DeploymentStrategy;
  minReadySeconds?: number;
  revisionHistoryLimit?: number;
  progressDeadlineSeconds?: number;
  paused?: boolean;
}

export interface Deployment extends KObject {
  kind: 'Deployment';
  spec: DeploymentSpec;
  status?: {
    observedGeneration?: number;
    replicas?: number;
    updatedReplicas?: number;
    readyReplicas?: number;
    availableReplicas?: number;
    unavailableReplicas?: number;
    conditions?: Condition[];
  };
}

export interface ServicePort {
  name?: string;
  protocol?: 'TCP' | 'UDP';
  port: number;
  targetPort?: number | string;
  nodePort?: number;
}

export interface Service extends KObject {
  kind: 'Service';
  spec: {
    selector?: StringMap;
    ports: ServicePort[];
    type?: 'ClusterIP' | 'NodePort' | 'LoadBalancer';
    sessionAffinity?: 'None' | 'ClientIP';
    clusterIP?: string;
  };
  /** A LoadBalancer service's ingress points, once something provides them. */
  status?: { loadBalancer?: { ingress?: { ip?: string; hostname?: string }[] } };
}

export interface ConfigMap extends KObject {
  kind: 'ConfigMap';
  data?: StringMap;
  binaryData?: StringMap;
  immutable?: boolean;
}

export interface Secret extends KObject {
  kind: 'Secret';
  type?: string;
  /** base64-encoded values, as in Kubernetes. */
  data?: StringMap;
  /** plain values; folded into `data` on write, as in Kubernetes. */
  stringData?: StringMap;
  immutable?: boolean;
}

export interface NodeAddress {
  type: 'InternalIP' | 'ExternalIP' | 'Hostname';
  address: string;
}

export interface NodeResources {
  cpu: string;
  memory: string;
  pods: string;
  'ephemeral-storage'?: string;
}

export interface Node extends KObject {
  kind: 'Node';
  spec: { unschedulable?: boolean; taints?: Taint[] };
  status?: {
    capacity?: NodeResources;
    allocatable?: NodeResources;
    conditions?: Condition[];
    addresses?: NodeAddress[];
    nodeInfo?: {
      architecture: string;
      operatingSystem: string;
      kernelVersion?: string;
      osImage?: string;
      kubeletVersion?: string;
      /** kubectl's CONTAINER-RUNTIME column: the container engine (`podman://4.3.1`) when the node has one, else the drivers the agent has (`process,wasi`). */
      containerRuntimeVersion?: string;
      /** Skiff addition: which drivers the agent has (process, container, wasi). */
      runtimes?: string[];
      nodeVersion?: string;
      /** Skiff addition: the board's model (`Raspberry Pi 4 Model B Rev 1.4`), when the agent could read it. */
      boardModel?: string;
      /** Skiff addition: the directory the agent keeps local-path volumes in (its --volume-dir). */
      volumeDir?: string;
      /** Skiff additions: the agent's version without the `v`, cgroup version (v2, v1, none), cpus, RAM. */
      agentVersion?: string;
      cgroupVersion?: string;
      cpus?: number;
      memoryBytes?: number;
    };
    images?: { names: string[]; sizeBytes?: number }[];
  };
}

export interface Namespace extends KObject {
  kind: 'Namespace';
  spec?: { finalizers?: string[] };
  status?: { phase: 'Active' | 'Terminating' };
}

/** Every kind Skiff serves, by name, with its type (protocol/kinds.ts has one registry entry per key). */
export interface KindMap {
  Namespace: Namespace;
  Node: Node;
  Pod: Pod;
  ReplicaSet: ReplicaSet;
  Deployment: Deployment;
  StatefulSet: StatefulSet;
  DaemonSet: DaemonSet;
  Job: Job;
  CronJob: CronJob;
  HorizontalPodAutoscaler: HorizontalPodAutoscaler;
  Service: Service;
  Endpoints: Endpoints;
  ConfigMap: ConfigMap;
  Secret: Secret;
  PersistentVolumeClaim: PersistentVolumeClaim;
  PersistentVolume: PersistentVolume;
  StorageClass: StorageClass;
  ResourceQuota: ResourceQuota;
  LimitRange: LimitRange;
  ControllerRevision: ControllerRevision;
  Lease: Lease;
  Event: Event;
}

/** A kind name Skiff serves. */
export type KindName = keyof KindMap;

/** An object of any kind Skiff serves; `kind` tells which. */
export type AnyObject = KindMap[KindName];

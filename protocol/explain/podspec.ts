/** Field descriptions of PodSpec and PodTemplateSpec (Kubernetes' wording, shortened; Skiff's differences said). */
import { labelSelector, objectMeta } from './meta.js';
import { leaf, node, type FieldDoc } from './types.js';

const probeHandler = {
  exec: node('ExecAction', 'Exec specifies a command to run beside the container.', { command: leaf('[]string', 'Command line to execute; exit status 0 is healthy.') }),
  httpGet: node('HTTPGetAction', 'HTTPGet specifies an HTTP GET request to perform.', {
    path: leaf('string', 'Path to access on the HTTP server.'),
    port: leaf('IntOrString', 'Number or name of the port to access on the container.', true),
    host: leaf('string', 'Host name to connect to, defaults to the pod IP.'),
    scheme: leaf('string', 'Scheme to use for connecting to the host: HTTP (default) or HTTPS.'),
    httpHeaders: node('[]HTTPHeader', 'Custom headers to set in the request.', { name: leaf('string', 'The header field name.', true), value: leaf('string', 'The header field value.', true) }),
  }),
  tcpSocket: node('TCPSocketAction', 'TCPSocket specifies a connection to a TCP port.', {
    port: leaf('IntOrString', 'Number or name of the port to access on the container.', true),
    host: leaf('string', 'Optional: host name to connect to, defaults to the pod IP.'),
  }),
};

function probe(what: string): FieldDoc {
  return node('Probe', `${what} Exactly one of exec, httpGet and tcpSocket.`, {
    ...probeHandler,
    initialDelaySeconds: leaf('integer', 'Number of seconds after the container has started before the probe is initiated.'),
    periodSeconds: leaf('integer', 'How often (in seconds) to perform the probe. Default to 10 seconds.'),
    timeoutSeconds: leaf('integer', 'Number of seconds after which the probe times out. Defaults to 1 second.'),
    successThreshold: leaf('integer', 'Minimum consecutive successes for the probe to be considered successful after having failed. Defaults to 1.'),
    failureThreshold: leaf('integer', 'Minimum consecutive failures for the probe to be considered failed after having succeeded. Defaults to 3.'),
  });
}

const keyRef = (what: string) =>
  node(`${what}KeySelector`, `Selects a key of a ${what}.`, {
    name: leaf('string', `Name of the ${what}.`, true),
    key: leaf('string', 'The key to select.', true),
    optional: leaf('boolean', `Specify whether the ${what} or its key must be defined.`),
  });

const envVar = node('[]EnvVar', 'List of environment variables to set in the container.', {
  name: leaf('string', 'Name of the environment variable.', true),
  value: leaf('string', 'Variable references $(VAR_NAME) are expanded using the previously defined environment variables.'),
  valueFrom: node('EnvVarSource', 'Source for the environment variable\'s value. Cannot be used if value is not empty.', {
    fieldRef: node('ObjectFieldSelector', 'Selects a field of the pod: metadata.name, metadata.namespace, metadata.uid, metadata.labels[\'KEY\'], metadata.annotations[\'KEY\'], spec.nodeName, spec.serviceAccountName, status.hostIP, status.podIP.', {
      fieldPath: leaf('string', 'Path of the field to select.', true),
      apiVersion: leaf('string', 'Version of the schema the FieldPath is written in terms of, defaults to "v1".'),
    }),
    resourceFieldRef: node('ResourceFieldSelector', 'Selects a resource of the container: limits.cpu, limits.memory, requests.cpu, requests.memory.', {
      resource: leaf('string', 'Required: resource to select.', true),
      containerName: leaf('string', 'Container name: required for volumes, optional for env vars.'),
      divisor: leaf('Quantity', 'Specifies the output format of the exposed resources, defaults to "1".'),
    }),
    configMapKeyRef: keyRef('ConfigMap'),
    secretKeyRef: keyRef('Secret'),
  }),
});

const refTo = (what: string) => node(`${what}EnvSource`, `The ${what} to select from.`, { name: leaf('string', `Name of the ${what}.`, true), optional: leaf('boolean', `Specify whether the ${what} must be defined.`) });

/** SecurityContext (a container's) or PodSecurityContext (`pod`): the fields Pod Security checks. */
function securityContextFields(pod: boolean): Record<string, FieldDoc> {
  const common: Record<string, FieldDoc> = {
    runAsUser: leaf('integer', 'The UID to run the entrypoint of the container process. Process pods: the agent (as root) runs the process as this user.'),
    runAsGroup: leaf('integer', 'The GID to run the entrypoint of the container process (Skiff: defaults to runAsUser).'),
    runAsNonRoot: leaf('boolean', 'The container must run as a non-root user; the agent refuses to start it as root.'),
    seccompProfile: node('SeccompProfile', 'The seccomp options (checked by Pod Security; not applied to process pods).', {
      type: leaf('string', 'RuntimeDefault, Localhost or Unconfined.', true),
      localhostProfile: leaf('string', 'A profile on the node, with type Localhost.'),
    }),
  };
  if (pod) return { ...common, fsGroup: leaf('integer', 'A supplemental group for all containers of the pod (accepted; not applied yet).') };
  return {
    ...common,
    privileged: leaf('boolean', 'Run the container in privileged mode (only at the privileged Pod Security level).'),
    allowPrivilegeEscalation: leaf('boolean', 'Whether a process can gain more privileges than its parent (restricted asks false; runtime container: no_new_privs).'),
    readOnlyRootFilesystem: leaf('boolean', 'Whether the container has a read-only root filesystem (runtime container; not applied to process pods).'),
    capabilities: node('Capabilities', 'The capabilities to add or drop (checked by Pod Security; applied to runtime container, not to process pods).', {
      add: leaf('[]string', 'Added capabilities.'),
      drop: leaf('[]string', 'Removed capabilities (restricted asks ALL).'),
    }),
  };
}

/** One container (a process, an image, or a WASI module: spec.runtimeClassName). */
export const container: Record<string, FieldDoc> = {
  name: leaf('string', 'Name of the container specified as a DNS_LABEL. Each container in a pod must have a unique name.', true),
  image: leaf('string', 'Container image name (runtime container), or a .wasm file or URL (runtime wasi). Omitted for a process container.'),
  imagePullPolicy: leaf('string', 'Always, IfNotPresent or Never. Defaults to Always for an image tagged :latest or untagged, IfNotPresent otherwise (runtime container).'),
  command: leaf('[]string', 'Entrypoint array. Required for a process container (runtime process): the program run on the node. $(VAR) references are expanded.'),
  args: leaf('[]string', 'Arguments to the entrypoint. $(VAR) references are expanded.'),
  workingDir: leaf('string', "Container's working directory. For a process container, also the root of its files for skiff cp."),
  env: envVar,
  envFrom: node('[]EnvFromSource', 'List of sources to populate environment variables in the container.', {
    configMapRef: refTo('ConfigMap'),
    secretRef: refTo('Secret'),
    prefix: leaf('string', 'An optional identifier to prepend to each key.'),
  }),
  ports: node('[]ContainerPort', 'List of ports to expose from the container. A process container with containerPort 0 gets a free port, passed as PORT (and PORT_<NAME>); a container pod with its own network gets each published on a node port (status.ports).', {
    name: leaf('string', 'An IANA_SVC_NAME, unique within the pod; services refer to it.'),
    containerPort: leaf('integer', 'Number of port to expose (0: the agent picks a free one for a process container).', true),
    hostPort: leaf('integer', 'Number of port to expose on the host.'),
    protocol: leaf('string', 'Protocol for port: TCP (default) or UDP.'),
  }),
  resources: node('ResourceRequirements', 'Compute resources required by this container.', {
    requests: leaf('map[string]Quantity', 'The minimum cpu, memory and ephemeral-storage required; the scheduler places pods by it.'),
    limits: leaf('map[string]Quantity', 'The maximum cpu, memory and ephemeral-storage allowed (enforced through cgroups where the node can).'),
  }),
  volumeMounts: node('[]VolumeMount', "Pod volumes to mount into the container's filesystem (for a process container: SKIFF_VOLUME_<NAME>, and a symlink under workingDir).", {
    name: leaf('string', 'This must match the Name of a Volume.', true),
    mountPath: leaf('string', 'Path within the container at which the volume should be mounted.', true),
    subPath: leaf('string', "Path within the volume from which the container's volume should be mounted."),
    readOnly: leaf('boolean', 'Mounted read-only if true, read-write otherwise.'),
  }),
  securityContext: node('SecurityContext', 'How the container is confined; Pod Security levels check it (docs/security.md).', securityContextFields(false)),
  livenessProbe: probe('Periodic probe of container liveness. Container will be restarted if the probe fails.'),
  readinessProbe: probe('Periodic probe of container service readiness. Container will be removed from service endpoints if the probe fails.'),
  startupProbe: probe('StartupProbe indicates that the Pod has successfully initialized; other probes wait for it.'),
};

const term = {
  matchExpressions: node('[]NodeSelectorRequirement', 'A list of node selector requirements by node\'s labels.', {
    key: leaf('string', 'The label key that the selector applies to.', true),
    operator: leaf('string', 'In, NotIn, Exists, DoesNotExist, Gt or Lt.', true),
    values: leaf('[]string', 'An array of string values.'),
  }),
};

const keyToPath = node('[]KeyToPath', 'If unspecified, each key-value pair becomes a file named after the key; else only these keys, at these paths.', {
  key: leaf('string', 'key to project.', true),
  path: leaf('string', 'The relative path of the file to map the key to.', true),
  mode: leaf('integer', 'Optional: mode bits used to set permissions on this file.'),
});

/** PodSpec. */
export const podSpecFields: Record<string, FieldDoc> = {
  containers: node('[]Container', 'List of containers belonging to the pod. There must be at least one.', container, true),
  initContainers: node('[]Container', 'List of initialization containers (not run by skiff-agent yet: a pod with them stays Pending).', container),
  restartPolicy: leaf('string', 'Restart policy for all containers within the pod: Always (default), OnFailure, Never.'),
  runtimeClassName: leaf('string', 'Skiff: the driver that runs the containers: process, container or wasi. Default: container with an image, process otherwise.'),
  nodeName: leaf('string', 'A request to schedule this pod onto a specific node.'),
  nodeSelector: leaf('map[string]string', "A selector which must be true for the pod to fit on a node: it must match a node's labels."),
  terminationGracePeriodSeconds: leaf('integer', 'Duration in seconds the pod needs to terminate gracefully (SIGTERM, then SIGKILL). Defaults to 30 seconds.'),
  hostname: leaf('string', "Specifies the hostname of the Pod (HOSTNAME in its environment). Defaults to the pod's name."),
  subdomain: leaf('string', 'With hostname: the pod\'s DNS name is "<hostname>.<subdomain>.<namespace>.svc.cluster.local", subdomain being a headless Service (a StatefulSet sets both).'),
  securityContext: node('PodSecurityContext', 'Security attributes of every container unless one overrides them (docs/security.md).', securityContextFields(true)),
  hostNetwork: leaf('boolean', "Use the node's network namespace (only at the privileged Pod Security level; a container pod then binds its containerPorts on the node; a process pod shares it by design)."),
  hostPID: leaf('boolean', "Use the node's pid namespace (only at the privileged Pod Security level)."),
  hostIPC: leaf('boolean', "Use the node's ipc namespace (only at the privileged Pod Security level)."),
  imagePullSecrets: node('[]LocalObjectReference', 'Secrets of type kubernetes.io/dockerconfigjson in the pod\'s namespace with registry credentials for pulling its images (sent to the pod\'s node with its other Secrets).', {
    name: leaf('string', 'Name of the Secret.', true),
  }),
  serviceAccountName: leaf('string', 'Accepted for compatibility; exposed through the downward API only.'),
  tolerations: node('[]Toleration', "If specified, the pod's tolerations.", {
    key: leaf('string', 'Key is the taint key that the toleration applies to. Empty means match all taint keys.'),
    operator: leaf('string', "Operator represents a key's relationship to the value: Exists or Equal (default)."),
    value: leaf('string', 'Value is the taint value the toleration matches to.'),
    effect: leaf('string', 'Effect indicates the taint effect to match: NoSchedule, PreferNoSchedule, NoExecute. Empty means all.'),
    tolerationSeconds: leaf('integer', 'How long the pod stays bound to a node with a NoExecute taint it tolerates.'),
  }),
  affinity: node('Affinity', "If specified, the pod's scheduling constraints.", {
    nodeAffinity: node('NodeAffinity', 'Describes node affinity scheduling rules for the pod.', {
      requiredDuringSchedulingIgnoredDuringExecution: node('NodeSelector', 'The pod is not scheduled onto a node that does not meet these requirements.', {
        nodeSelectorTerms: node('[]NodeSelectorTerm', 'Required. A list of node selector terms. The terms are ORed.', term, true),
      }),
      preferredDuringSchedulingIgnoredDuringExecution: node('[]PreferredSchedulingTerm', 'The scheduler prefers nodes that satisfy these, by weight.', {
        weight: leaf('integer', 'Weight associated with matching the corresponding nodeSelectorTerm, in the range 1-100.', true),
        preference: node('NodeSelectorTerm', 'A node selector term, associated with the corresponding weight.', term, true),
      }),
    }),
  }),
  topologySpreadConstraints: node('[]TopologySpreadConstraint', 'How a group of pods ought to spread across topology domains (zones, nodes).', {
    maxSkew: leaf('integer', 'The degree to which pods may be unevenly distributed.', true),
    topologyKey: leaf('string', 'The key of node labels; nodes with the same value are in the same topology domain.', true),
    whenUnsatisfiable: leaf('string', 'How to deal with a pod that does not satisfy the spread constraint: DoNotSchedule or ScheduleAnyway.', true),
    labelSelector: labelSelector('Used to find matching pods, counted to determine the number of pods in their topology domain.'),
  }),
  volumes: node('[]Volume', 'List of volumes that can be mounted by containers belonging to the pod. Exactly one source each.', {
    name: leaf('string', "Volume's name. Must be a DNS_LABEL and unique within the pod.", true),
    emptyDir: node('EmptyDirVolumeSource', 'A temporary directory that shares a pod\'s lifetime.', {
      medium: leaf('string', 'Accepted for compatibility; always the node\'s disk.'),
      sizeLimit: leaf('Quantity', 'Accepted for compatibility; not enforced.'),
    }),
    hostPath: node('HostPathVolumeSource', 'A pre-existing file or directory on the node.', {
      path: leaf('string', 'Path of the directory on the host.', true),
      type: leaf('string', 'Type for HostPath Volume: "", DirectoryOrCreate, Directory, FileOrCreate, File, Socket.'),
    }),
    configMap: node('ConfigMapVolumeSource', 'A configMap that should populate this volume (files follow updates).', {
      name: leaf('string', 'Name of the ConfigMap.', true),
      items: keyToPath,
      defaultMode: leaf('integer', 'Mode bits used to set permissions on created files by default.'),
      optional: leaf('boolean', 'Specify whether the ConfigMap or its keys must be defined.'),
    }),
    persistentVolumeClaim: node('PersistentVolumeClaimVolumeSource', "A PersistentVolumeClaim in the pod's namespace: the pod runs on the node of the volume bound to it, in that volume's directory.", {
      claimName: leaf('string', 'ClaimName is the name of a PersistentVolumeClaim in the same namespace as the pod.', true),
      readOnly: leaf('boolean', 'Accepted for compatibility; not enforced for process pods.'),
    }),
    secret: node('SecretVolumeSource', 'A secret that should populate this volume.', {
      secretName: leaf('string', 'Name of the secret in the pod\'s namespace to use.', true),
      items: keyToPath,
      defaultMode: leaf('integer', 'Mode bits used to set permissions on created files by default.'),
      optional: leaf('boolean', 'Specify whether the Secret or its keys must be defined.'),
    }),
  }),
};

/** PodTemplateSpec: a pod's metadata and spec, inside a workload. */
export const podTemplate: FieldDoc = node('PodTemplateSpec', 'Template describes the pods that will be created.', {
  metadata: objectMeta,
  spec: node('PodSpec', 'Specification of the desired behavior of the pod.', podSpecFields),
}, true);

/** A pod's status, as the agent reports it (read-only). */
export const podStatus: FieldDoc = node('PodStatus', 'Most recently observed status of the pod, reported by its node. Read-only.', {
  phase: leaf('string', 'Pending, Running, Succeeded, Failed or Unknown.'),
  conditions: node('[]PodCondition', 'Current service state of pod: PodScheduled, Initialized, ContainersReady, Ready.', {
    type: leaf('string', 'Type is the type of the condition.'),
    status: leaf('string', 'True, False or Unknown.'),
    reason: leaf('string', 'Unique, one-word, CamelCase reason for the condition\'s last transition.'),
    message: leaf('string', 'Human-readable message indicating details about last transition.'),
    lastTransitionTime: leaf('string', 'Last time the condition transitioned from one status to another.'),
  }),
  podIP: leaf('string', 'IP address allocated to the pod (a process pod: its node\'s address).'),
  hostIP: leaf('string', 'IP address of the host to which the pod is assigned.'),
  startTime: leaf('string', 'When the pod was acknowledged by its node.'),
  containerStatuses: leaf('[]ContainerStatus', 'The status of each container: name, ready, restartCount, state, lastState.'),
  ports: leaf('[]PodPortStatus', 'Skiff: the node ports a pod\'s containers got (containerName, name, port, protocol; containerPort: the container port a container pod\'s node port forwards to).'),
});

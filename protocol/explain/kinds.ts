/**
 * What each kind's fields mean, for `skiff explain` and for the unknown-field warnings of apply
 * (fields.ts). Validation (protocol/resources/) checks fields by path; test/unit/explain.test.ts records
 * every path a validator looks at and fails when one is missing here, so the two cannot drift apart.
 */
import { labelSelector, objectMeta, typeMeta } from './meta.js';
import { podSpecFields, podStatus, podTemplate } from './podspec.js';
import { leaf, node, type FieldDoc, type KindDoc } from './types.js';
import { storageKindDocs } from './kinds-storage.js';

const conditions = leaf('[]Condition', 'Represents the latest available observations of the object\'s current state: type, status, reason, message, lastTransitionTime.');
const replicas = (what: string) => leaf('integer', `Number of desired pods. Defaults to 1. ${what}`);
const selector = labelSelector('Label selector for pods. Existing pods whose labels match it are the ones affected. It must match the pod template\'s labels.', true);
const intOrPercent = (d: string) => leaf('IntOrString', d);
const historyLimit = leaf('integer', 'The number of old revisions to retain to allow rollback. Defaults to 10.');
const minReady = leaf('integer', 'Minimum number of seconds for which a newly created pod should be ready without any of its container crashing, for it to be considered available. Defaults to 0.');

const jobSpecFields: Record<string, FieldDoc> = {
  completions: leaf('integer', 'Specifies the desired number of successfully finished pods the job should be run with. Defaults to 1.'),
  parallelism: leaf('integer', 'Specifies the maximum desired number of pods the job should run at any given time. Defaults to 1.'),
  backoffLimit: leaf('integer', 'Specifies the number of retries before marking this job failed. Defaults to 6.'),
  activeDeadlineSeconds: leaf('integer', 'The duration in seconds relative to the startTime that the job may be active before the system tries to terminate it.'),
  ttlSecondsAfterFinished: leaf('integer', 'Limits the lifetime of a Job that has finished execution (Complete or Failed): then it is deleted, with its pods and their logs.'),
  manualSelector: leaf('boolean', 'Controls generation of pod labels and pod selectors. Leave unset: the controller selects its pods by owner.'),
  selector: labelSelector('A label query over pods that should match the pod count. Only with manualSelector.'),
  template: podTemplate,
};

const serviceFields: Record<string, FieldDoc> = {
  type: leaf('string', 'How the Service is exposed: ClusterIP (default: a virtual IP in 127.77.0.0/16 on every node), NodePort, LoadBalancer.'),
  selector: leaf('map[string]string', 'Route service traffic to pods with label keys and values matching this selector.'),
  clusterIP: leaf('string', 'The IP address of the service, allocated by the master; "None" makes a headless service. Immutable once set.'),
  sessionAffinity: leaf('string', 'ClientIP (a client keeps its endpoint: Maglev hashing) or None (default).'),
  ports: node('[]ServicePort', 'The list of ports that are exposed by this service.', {
    name: leaf('string', 'The name of this port within the service; required when there are several.'),
    port: leaf('integer', 'The port that will be exposed by this service.', true),
    targetPort: leaf('IntOrString', "Number or name of the port to access on the pods targeted by the service. Defaults to port."),
    nodePort: leaf('integer', 'The port on each node on which this service is exposed when type is NodePort or LoadBalancer (30000-32767).'),
    protocol: leaf('string', 'TCP (default) or UDP.'),
  }, true),
};

const metricTarget = node('MetricTarget', 'The target value, average value, or average utilization of the metric.', {
  type: leaf('string', 'Utilization, Value, or AverageValue.', true),
  averageUtilization: leaf('integer', 'The target value of the average of the resource metric across all relevant pods, as a percentage of the requests.'),
  value: leaf('Quantity', 'The target value of the metric (as a quantity).'),
  averageValue: leaf('Quantity', 'The target value of the average of the metric across all relevant pods (as a quantity).'),
});

const scalingRules = (d: string) => node('HPAScalingRules', d, { stabilizationWindowSeconds: leaf('integer', 'The number of seconds for which past recommendations should be considered while scaling (0-3600).') });

const dataMap = (d: string) => leaf('map[string]string', d);

/** Every kind's documentation, by Kind name. */
export const kindDocs: Record<string, KindDoc> = {
  Namespace: { description: 'Namespace provides a scope for Names.', fields: { ...typeMeta, metadata: objectMeta, status: node('NamespaceStatus', 'Status describes the current status of a Namespace. Read-only.', { phase: leaf('string', 'Active or Terminating.') }) } },
  Node: {
    description: 'Node is a worker (a board running skiff-agent). It registers itself when it joins.',
    fields: {
      ...typeMeta,
      metadata: objectMeta,
      spec: node('NodeSpec', 'Spec defines the behavior of a node.', {
        unschedulable: leaf('boolean', 'Unschedulable controls node schedulability of new pods (skiff cordon / uncordon).'),
        taints: node('[]Taint', "If specified, the node's taints (skiff taint).", {
          key: leaf('string', 'Required. The taint key to be applied to a node.', true),
          value: leaf('string', 'The taint value corresponding to the taint key.'),
          effect: leaf('string', 'Required. NoSchedule, PreferNoSchedule or NoExecute.', true),
          timeAdded: leaf('string', 'The time at which the taint was added (NoExecute taints).'),
        }),
      }),
      status: leaf('NodeStatus', 'Most recently observed status of the node: capacity, allocatable, conditions, addresses, nodeInfo. Read-only.'),
    },
  },
  Pod: { description: 'Pod is a collection of containers that run together on one node.', fields: { ...typeMeta, metadata: objectMeta, spec: node('PodSpec', 'Specification of the desired behavior of the pod.', podSpecFields, true), status: podStatus } },
  ReplicaSet: {
    description: 'ReplicaSet ensures that a specified number of pod replicas are running at any given time.',
    fields: {
      ...typeMeta,
      metadata: objectMeta,
      spec: node('ReplicaSetSpec', 'Spec defines the specification of the desired behavior of the ReplicaSet.', { replicas: replicas(''), minReadySeconds: minReady, selector, template: podTemplate }),
      status: leaf('ReplicaSetStatus', 'The most recently observed status of the ReplicaSet: replicas, readyReplicas, availableReplicas, conditions. Read-only.'),
    },
  },
  Deployment: {
    description: 'Deployment enables declarative updates for Pods and ReplicaSets.',
    fields: {
      ...typeMeta,
      metadata: objectMeta,
      spec: node('DeploymentSpec', 'Specification of the desired behavior of the Deployment.', {
        replicas: replicas(''),
        selector,
        template: podTemplate,
        strategy: node('DeploymentStrategy', 'The deployment strategy to use to replace existing pods with new ones.', {
          type: leaf('string', 'Type of deployment: Recreate or RollingUpdate (default).'),
          rollingUpdate: node('RollingUpdateDeployment', 'Rolling update config params. Present only if type = RollingUpdate.', {
            maxSurge: intOrPercent('The maximum number of pods that can be scheduled above the desired number of pods (a number or a percentage). Defaults to 25%.'),
            maxUnavailable: intOrPercent('The maximum number of pods that can be unavailable during the update (a number or a percentage). Defaults to 25%.'),
          }),
        }),
        minReadySeconds: minReady,
        revisionHistoryLimit: historyLimit,
        progressDeadlineSeconds: leaf('integer', 'The maximum time in seconds for a deployment to make progress before it is considered to be failed. Defaults to 600s.'),
        paused: leaf('boolean', 'Indicates that the deployment is paused (skiff rollout pause).'),
      }, true),
      status: leaf('DeploymentStatus', 'Most recently observed status of the Deployment: replicas, updatedReplicas, readyReplicas, availableReplicas, conditions. Read-only.'),
    },
  },
  DaemonSet: {
    description: 'DaemonSet represents the configuration of a daemon set: one pod on each eligible node.',
    fields: {
      ...typeMeta,
      metadata: objectMeta,
      spec: node('DaemonSetSpec', 'The desired behavior of this daemon set.', {
        selector,
        template: podTemplate,
        minReadySeconds: minReady,
        revisionHistoryLimit: historyLimit,
        updateStrategy: node('DaemonSetUpdateStrategy', 'An update strategy to replace existing DaemonSet pods with new pods.', {
          type: leaf('string', 'Type of daemon set update: RollingUpdate (default) or OnDelete.'),
          rollingUpdate: node('RollingUpdateDaemonSet', 'Rolling update config params. Present only if type = RollingUpdate.', {
            maxUnavailable: intOrPercent('The maximum number of DaemonSet pods that can be unavailable during the update. Defaults to 1.'),
            maxSurge: intOrPercent('Must be 0: Skiff replaces a node\'s daemon pod delete-then-create.'),
          }),
        }),
      }, true),
      status: leaf('DaemonSetStatus', 'The current status of this daemon set: desiredNumberScheduled, currentNumberScheduled, numberReady, updatedNumberScheduled, numberAvailable. Read-only.'),
    },
  },
  Job: {
    description: 'Job represents the configuration of a single job: pods run to completion.',
    fields: { ...typeMeta, metadata: objectMeta, spec: node('JobSpec', 'Specification of the desired behavior of a job.', jobSpecFields, true), status: leaf('JobStatus', 'Current status of a job: active, succeeded, failed, startTime, completionTime, conditions. Read-only.') },
  },
  CronJob: {
    description: 'CronJob represents the configuration of a single cron job.',
    fields: {
      ...typeMeta,
      metadata: objectMeta,
      spec: node('CronJobSpec', 'Specification of the desired behavior of a cron job, including the schedule.', {
        schedule: leaf('string', 'The schedule in Cron format (5 fields, or 6 with seconds first).', true),
        timeZone: leaf('string', 'The time zone name for the given schedule (an IANA name such as Europe/Berlin).'),
        concurrencyPolicy: leaf('string', 'How to treat concurrent executions of a Job: Allow (default), Forbid, Replace.'),
        suspend: leaf('boolean', 'Tells the controller to suspend subsequent executions.'),
        startingDeadlineSeconds: leaf('integer', 'Deadline in seconds for starting the job if it misses scheduled time for any reason.'),
        successfulJobsHistoryLimit: leaf('integer', 'The number of successful finished jobs to retain. Defaults to 3.'),
        failedJobsHistoryLimit: leaf('integer', 'The number of failed finished jobs to retain. Defaults to 1.'),
        jobTemplate: node('JobTemplateSpec', 'Specifies the job that will be created when executing a CronJob.', {
          metadata: objectMeta,
          spec: node('JobSpec', 'Specification of the desired behavior of the job.', jobSpecFields, true),
        }, true),
      }, true),
      status: leaf('CronJobStatus', 'Current status of a cron job: active, lastScheduleTime, lastSuccessfulTime. Read-only.'),
    },
  },
  HorizontalPodAutoscaler: {
    description: 'HorizontalPodAutoscaler automatically manages the replica count of a Deployment or ReplicaSet from metrics (cpu, memory, or a number published over MQTT).',
    fields: {
      ...typeMeta,
      metadata: objectMeta,
      spec: node('HorizontalPodAutoscalerSpec', 'The specification for the behaviour of the autoscaler.', {
        scaleTargetRef: node('CrossVersionObjectReference', 'Points to the target resource to scale.', {
          apiVersion: leaf('string', 'API version of the referent (apps/v1).'),
          kind: leaf('string', 'Kind of the referent: Deployment or ReplicaSet.', true),
          name: leaf('string', 'Name of the referent.', true),
        }, true),
        minReplicas: leaf('integer', 'The lower limit for the number of replicas. Defaults to 1.'),
        maxReplicas: leaf('integer', 'The upper limit for the number of replicas. Cannot be less than minReplicas.', true),
        metrics: node('[]MetricSpec', 'The specifications for which to use to calculate the desired replica count. Defaults to 80% average CPU utilization.', {
          type: leaf('string', 'Resource or External.', true),
          resource: node('ResourceMetricSource', 'A resource metric (cpu or memory) known to the agents.', { name: leaf('string', 'cpu or memory.', true), target: metricTarget }),
          external: node('ExternalMetricSource', 'Skiff: a number published on skiff/v1/metrics/NAME by any MQTT client.', {
            metric: node('MetricIdentifier', 'The target metric.', { name: leaf('string', 'The MQTT topic levels after skiff/v1/metrics/.', true) }, true),
            target: metricTarget,
          }),
        }),
        behavior: node('HorizontalPodAutoscalerBehavior', 'Configures the scaling behavior of the target in both Up and Down directions.', {
          scaleUp: scalingRules('Scaling policy for scaling Up. Default stabilization window 0 s.'),
          scaleDown: scalingRules('Scaling policy for scaling Down. Default stabilization window 300 s.'),
        }),
      }, true),
      status: leaf('HorizontalPodAutoscalerStatus', 'The current information about the autoscaler. Read-only.'),
    },
  },
  Service: {
    description: 'Service is a named abstraction of software service, reachable from every node through its proxy.',
    fields: { ...typeMeta, metadata: objectMeta, spec: node('ServiceSpec', 'Spec defines the behavior of a service.', serviceFields, true), status: leaf('ServiceStatus', 'Most recently observed status of the service (load balancer ingress). Read-only.') },
  },
  Endpoints: {
    description: 'Endpoints is a collection of endpoints that implement the actual service.',
    fields: {
      ...typeMeta,
      metadata: objectMeta,
      subsets: node('[]EndpointSubset', 'The set of all endpoints: the union of all subsets.', {
        addresses: node('[]EndpointAddress', 'IP addresses which offer the related ports that are marked as ready.', { ip: leaf('string', 'The IP of this endpoint.', true), hostname: leaf('string', 'The Hostname of this endpoint (a pod whose subdomain is the service).'), nodeName: leaf('string', 'The node hosting this endpoint.'), targetRef: leaf('ObjectReference', 'Reference to the pod providing the endpoint.') }),
        notReadyAddresses: node('[]EndpointAddress', 'IP addresses which offer the related ports but are not currently marked as ready.', { ip: leaf('string', 'The IP of this endpoint.', true), hostname: leaf('string', 'The Hostname of this endpoint.'), nodeName: leaf('string', 'The node hosting this endpoint.'), targetRef: leaf('ObjectReference', 'Reference to the pod providing the endpoint.') }),
        ports: node('[]EndpointPort', 'Port numbers available on the related IP addresses.', { name: leaf('string', 'The name of this port (the service port\'s).'), port: leaf('integer', 'The port number of the endpoint.', true), protocol: leaf('string', 'TCP (default) or UDP.') }),
      }),
    },
  },
  ConfigMap: {
    description: 'ConfigMap holds configuration data for pods to consume (env, envFrom, volumes that follow updates).',
    fields: { ...typeMeta, metadata: objectMeta, data: dataMap('Data contains the configuration data: keys of letters, digits, "-", "_" or ".".'), binaryData: dataMap('BinaryData contains base64-encoded binary data.'), immutable: leaf('boolean', 'If set to true, ensures that data stored in the ConfigMap cannot be updated.') },
  },
  Secret: {
    description: 'Secret holds secret data of a certain type.',
    fields: {
      ...typeMeta,
      metadata: objectMeta,
      data: dataMap('Data contains the secret data, base64-encoded.'),
      stringData: dataMap('stringData allows specifying non-binary secret data in string form; it is merged into data on write.'),
      type: leaf('string', 'Used to facilitate programmatic handling of secret data. Defaults to Opaque.'),
      immutable: leaf('boolean', 'If set to true, ensures that data stored in the Secret cannot be updated.'),
    },
  },
  Event: {
    description: 'Event is a report of an event somewhere in the cluster, recorded by the master and its agents (kept in memory for --event-ttl, never applied).',
    fields: {
      ...typeMeta,
      metadata: objectMeta,
      involvedObject: leaf('ObjectReference', 'The object this event is about: kind, namespace, name, uid, apiVersion, fieldPath (spec.containers{NAME} for a container).'),
      reason: leaf('string', 'A short, machine-understandable string that gives the reason for the transition into the object\'s current status (Scheduled, BackOff, Unhealthy, ...).'),
      message: leaf('string', 'A human-readable description of the status of this operation.'),
      type: leaf('string', 'Normal or Warning.'),
      count: leaf('integer', 'The number of times this event has occurred.'),
      firstTimestamp: leaf('string', 'The time at which the event was first recorded.'),
      lastTimestamp: leaf('string', 'The time at which the most recent occurrence of this event was recorded.'),
      source: leaf('EventSource', 'The component reporting this event: component, and host for an agent.'),
      reportingComponent: leaf('string', 'Name of the controller that emitted this Event.'),
      reportingInstance: leaf('string', 'ID of the controller instance (the node, for an agent).'),
    },
  },
  ControllerRevision: {
    description: 'ControllerRevision is an immutable snapshot of a workload\'s pod template: the rollout history of DaemonSets and StatefulSets.',
    fields: { ...typeMeta, metadata: objectMeta, data: leaf('Object', 'The pod template at this revision ({spec: {template}}).', true), revision: leaf('integer', 'Revision indicates the revision of the state represented by Data.', true) },
  },
  ...storageKindDocs,
  Lease: {
    description: 'Lease defines a lease concept: in Skiff, skiff-system/skiff-controller shows which master leads (docs/ha.md); the leader writes it.',
    fields: {
      ...typeMeta,
      metadata: objectMeta,
      spec: {
        type: 'LeaseSpec',
        description: 'Specification of the Lease.',
        required: true,
        fields: {
          holderIdentity: leaf('string', 'The identity of the holder of the current lease: the leading master\'s --name.'),
          leaseDurationSeconds: leaf('integer', 'The duration that candidates for a lease need to wait to force acquire it (the etcd election lease).'),
          acquireTime: leaf('string', 'When the current lease was acquired.'),
          renewTime: leaf('string', 'When the current holder of a lease has last updated the lease.'),
          leaseTransitions: leaf('integer', 'The number of transitions of a lease between holders.'),
        },
      },
    },
  },
};

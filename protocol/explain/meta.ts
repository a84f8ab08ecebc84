/** Field descriptions shared by every kind: apiVersion, kind, ObjectMeta, LabelSelector (Kubernetes' wording, shortened). */
import { leaf, node, type FieldDoc } from './types.js';

/** apiVersion and kind. */
export const typeMeta: Record<string, FieldDoc> = {
  apiVersion: leaf('string', 'APIVersion defines the versioned schema of this representation of an object (apps/v1, v1, batch/v1, ...).'),
  kind: leaf('string', 'Kind is a string value representing the REST resource this object represents (Deployment, Pod, ...).'),
};

const ownerReference = node('[]OwnerReference', 'List of objects depended by this object. When all owners are deleted, this object is garbage collected.', {
  apiVersion: leaf('string', 'API version of the referent.', true),
  kind: leaf('string', 'Kind of the referent.', true),
  name: leaf('string', 'Name of the referent.', true),
  uid: leaf('string', 'UID of the referent.', true),
  controller: leaf('boolean', 'If true, this reference points to the managing controller.'),
  blockOwnerDeletion: leaf('boolean', 'Accepted for compatibility; Skiff deletes dependents in the background.'),
});

/** ObjectMeta: every object's metadata. */
export const objectMeta: FieldDoc = node('ObjectMeta', "Standard object's metadata.", {
  name: leaf('string', 'Name must be unique within a namespace (a DNS subdomain; a DNS label for namespaces and services).'),
  generateName: leaf('string', 'An optional prefix used by the server to generate a unique name, if name is not provided.'),
  namespace: leaf('string', 'Namespace defines the space within which each name must be unique. Empty for cluster-scoped kinds (nodes, namespaces).'),
  labels: leaf('map[string]string', 'Map of string keys and values that can be used to organize and categorize (scope and select) objects.'),
  annotations: leaf('map[string]string', 'An unstructured key value map stored with a resource that may be set by external tools.'),
  uid: leaf('string', 'UID is the unique in time and space value for this object, set by the server. Read-only.'),
  resourceVersion: leaf('string', 'An opaque value that represents the internal version of this object (the store revision), for optimistic concurrency. Read-only.'),
  generation: leaf('integer', 'A sequence number representing a specific generation of the desired state. Read-only.'),
  creationTimestamp: leaf('string', 'When this object was created (RFC 3339). Read-only.'),
  deletionTimestamp: leaf('string', 'When this object will be deleted (graceful deletion in progress). Read-only.'),
  ownerReferences: ownerReference,
  finalizers: leaf('[]string', 'Keys that must be removed (by the controller that owns each) before the object is deleted: a delete meanwhile only sets deletionTimestamp (kubernetes.io/pvc-protection, kubernetes.io/pv-protection).'),
});

const requirement = node('[]LabelSelectorRequirement', 'matchExpressions is a list of label selector requirements. The requirements are ANDed.', {
  key: leaf('string', 'key is the label key that the selector applies to.', true),
  operator: leaf('string', "operator represents a key's relationship to a set of values: In, NotIn, Exists and DoesNotExist.", true),
  values: leaf('[]string', 'values is an array of string values. Must be non-empty for In and NotIn, empty for Exists and DoesNotExist.'),
});

/** A LabelSelector field. */
export function labelSelector(description: string, required = false): FieldDoc {
  return node(
    'LabelSelector',
    description,
    {
      matchLabels: leaf('map[string]string', 'matchLabels is a map of {key,value} pairs; each is equivalent to an element of matchExpressions with operator In.'),
      matchExpressions: requirement,
    },
    required,
  );
}

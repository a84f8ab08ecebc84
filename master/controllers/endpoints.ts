/**
 * The endpoints controller: for every Service, the ready pods behind it (master/services/endpoints.ts)
 * published retained on `skiff/v1/services/{ns}/{name}` for every agent's proxy, and stored as an
 * Endpoints object of the same name (`skiff get endpoints`). A deleted Service gets an empty retained
 * message (MQTT's way to clear it) and its Endpoints removed. On start every Service is synced, so a
 * fresh broker's retained store is filled again.
 */
import { isDeepStrictEqual } from 'node:util';
import { encode, matchesSelector, readyStatus, topics, type Endpoints, type EndpointSubset, type Node, type Pod } from '../../protocol/index.js';
import { realClock } from '../clock.js';
import { cacheKey, keyOf } from '../informer.js';
import { endpointsOf, hasSelector, messageFromEndpoints } from '../services/endpoints.js';
import { WorkQueue } from './queue.js';
import type { ControllerContext, SyncController } from './types.js';
import { podsByNode } from '../nodes/pods-by-node.js';

/** How the controller publishes: the broker's, QoS 1. */
export type Publish = (topic: string, payload: Buffer, retain: boolean) => Promise<void>;

/** Starts the endpoints controller. */
export function startEndpointsController(ctx: ControllerContext, publish: Publish): SyncController {
  const { informers, objects } = ctx;
  const queue = new WorkQueue('endpoints', sync, ctx.log, ctx.clock ?? realClock);
  /** What was last published per service key, so an unchanged set is not sent again. */
  const published = new Map<string, string>();

  const servicesSelecting = (pod: Pod) =>
    informers.list('Service', pod.metadata.namespace).filter((s) => hasSelector(s) && matchesSelector({ matchLabels: s.spec.selector }, pod.metadata.labels));
  informers.on('Service', (_s, _old, s) => queue.add(keyOf(s)));
  informers.on('Pod', (p, old) => {
    for (const pod of [p, old]) if (pod) for (const s of servicesSelecting(pod)) queue.add(keyOf(s));
  });
  // A node's readiness or address changes the endpoints of every service with a pod there.
  informers.on('Node', (n, old, node) => {
    const name = node.metadata.name;
    const nodeFacts = (x: Node) => JSON.stringify([readyStatus(x), x.status?.addresses]);
    if (n && old && nodeFacts(n) === nodeFacts(old)) return;
    for (const p of podsByNode(informers).of(name)) if (p.spec.nodeName === name) for (const s of servicesSelecting(p)) queue.add(keyOf(s));
  });
  // A selector-less service follows the Endpoints its user applies.
  informers.on('Endpoints', (_e, _old, o) => {
    const svc = informers.get('Service', o.metadata.namespace, o.metadata.name);
    if (svc && !hasSelector(svc)) queue.add(cacheKey(o.metadata.namespace, o.metadata.name));
  });

  async function sync(key: string): Promise<void> {
    const [ns, name] = key.split('/');
    const svc = informers.get('Service', ns, name);
    if (!svc || svc.metadata.deletionTimestamp) return removed(key, ns, name);
    if (!hasSelector(svc)) return send(key, encode(messageFromEndpoints(svc, informers.get('Endpoints', ns, name))));
    const { message, subsets } = endpointsOf(svc, informers.list('Pod', ns), (n) => informers.get('Node', undefined, n));
    await store(ns, name, subsets);
    await send(key, encode(message));
  }

  async function send(key: string, payload: Buffer): Promise<void> {
    const fingerprint = payload.toString('base64');
    if (published.get(key) === fingerprint) return;
    const [ns, name] = key.split('/');
    await publish(topics.service(ns, name), payload, true);
    published.set(key, fingerprint);
  }

  async function removed(key: string, ns: string, name: string): Promise<void> {
    await publish(topics.service(ns, name), Buffer.alloc(0), true);
    published.delete(key);
    const ep = informers.get('Endpoints', ns, name);
    // Only the Endpoints this controller wrote go with the service; a user's stay, as in Kubernetes.
    if (ep?.metadata.labels?.[managedBy] === controllerName)
      await objects.delete('Endpoints', ns, name).catch((err) => {
        if (err?.code !== 'SKIFF_ERR_NOT_FOUND') throw err;
      });
  }

  /** Creates or updates the Endpoints object when its subsets changed. */
  async function store(ns: string, name: string, subsets: EndpointSubset[]): Promise<void> {
    const cur = informers.get('Endpoints', ns, name);
    if (cur && isDeepStrictEqual(cur.subsets ?? [], subsets) && cur.metadata.labels?.[managedBy] === controllerName) return;
    if (!cur) {
      await objects
        .create<Endpoints>({ apiVersion: 'v1', kind: 'Endpoints', metadata: { name, namespace: ns, labels: { [managedBy]: controllerName } }, subsets })
        .catch((err) => {
          if (err?.code !== 'SKIFF_ERR_ALREADY_EXISTS') throw err;
          queue.add(cacheKey(ns, name)); // raced with a user's write: look again
        });
      return;
    }
    await objects.mutate('Endpoints', ns, name, (e) => {
      e.subsets = subsets;
      e.metadata.labels = { ...(e.metadata.labels ?? {}), [managedBy]: controllerName };
      return e;
    });
  }

  return { name: 'endpoints', sync, idle: () => queue.idle(), stop: () => queue.stop() };
}

/** The label marking Endpoints this controller manages (Kubernetes' `endpointslice.kubernetes.io/managed-by` idea). */
const managedBy = 'endpoints.skiff.io/managed-by';
const controllerName = 'endpoints-controller';

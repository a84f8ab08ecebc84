/**
 * The volume controller (Kubernetes' PV controller, pvc-protection and pv-protection controllers, and the
 * local-path provisioner's control loop, in one queue): binds claims to volumes, provisions local-path
 * volumes on the node the scheduler selected, keeps both kinds' phases, releases a volume whose claim is
 * gone and reclaims it (Retain: kept, Released; Delete: its node deletes the directory, then the volume
 * goes — reclaim.ts), and removes the protection finalizers once nothing needs the object. Keys are
 * `claim|namespace/name` and `volume|name`.
 */
import { isDeepStrictEqual } from 'node:util';
import { localPathProvisioner, readyStatus, type Node, type PersistentVolume, type PersistentVolumeClaim, type Pod, type StorageClass } from '../../../protocol/index.js';
import { realClock } from '../../clock.js';
import { cacheKey } from '../../informer.js';
import { WorkQueue } from '../queue.js';
import type { ControllerContext, SyncController } from '../types.js';
import { provisionedVolume, volumeDirOf } from './local-path.js';
import { claimInUse, claimsOf, matchVolume, reservedFor } from './match.js';
import { bindCompletedAnnotation, claimRefTo, localPathFinalizer, pvcProtection, pvProtection, selectedNodeAnnotation } from './names.js';
import { reclaimDirectory, type DirectoryDeleter } from './reclaim.js';

/** Starts the volume controller; `deleter` asks a node to delete a volume's directory. */
export function startVolumeController(ctx: ControllerContext, deleter: DirectoryDeleter): SyncController {
  const { informers, objects, events } = ctx;
  const queue = new WorkQueue('volumes', sync, ctx.log, ctx.clock ?? realClock);
  /** The last event per object uid and reason, so a claim that keeps waiting says so once. */
  const said = new Map<string, string>();
  const claimKey = (ns: string | undefined, name: string) => `claim|${cacheKey(ns, name)}`;
  const allClaims = () => informers.list('PersistentVolumeClaim').forEach((c) => queue.add(claimKey(c.metadata.namespace, c.metadata.name)));
  const allVolumes = () => informers.list('PersistentVolume').forEach((v) => queue.add(`volume|${v.metadata.name}`));

  informers.on('PersistentVolumeClaim', (c, _old, o) => {
    queue.add(claimKey(o.metadata.namespace, o.metadata.name));
    if (o.spec.volumeName) queue.add(`volume|${o.spec.volumeName}`);
    if (!c) said.delete(o.metadata.uid!);
  });
  informers.on('PersistentVolume', (_v, _old, o) => {
    queue.add(`volume|${o.metadata.name}`);
    if (o.spec.claimRef) queue.add(claimKey(o.spec.claimRef.namespace, o.spec.claimRef.name));
  });
  informers.on('Pod', (p, old) => {
    for (const pod of [p, old]) if (pod) for (const c of claimsOf(pod)) queue.add(claimKey(pod.metadata.namespace, c));
  });
  informers.on('StorageClass', () => allClaims());
  // A node that comes back, or starts telling its volume dir, may unblock provisioning and reclaiming.
  informers.on('Node', (n, old) => {
    const facts = (x: Node | undefined) => JSON.stringify([readyStatus(x), volumeDirOf(x)]);
    if (facts(n) === facts(old)) return;
    allClaims();
    allVolumes();
  });

  function say(o: PersistentVolumeClaim | PersistentVolume, type: 'Normal' | 'Warning', reason: string, message: string): void {
    const k = `${o.metadata.uid}|${reason}`;
    if (said.get(k) === message) return;
    said.set(k, message);
    events.object(o.kind, o.metadata.namespace, o.metadata.name, type, reason, message);
  }

  async function sync(key: string): Promise<void> {
    const [what, rest = ''] = key.split('|');
    if (what === 'volume') return syncVolume(rest);
    if (what !== 'claim') return; // a key this controller never queues
    const [ns, name = ''] = rest.split('/');
    return syncClaim(ns!, name);
  }

  async function syncClaim(ns: string, name: string): Promise<void> {
    const claim = informers.get('PersistentVolumeClaim', ns, name);
    if (!claim) return;
    if (claim.metadata.deletionTimestamp) {
      if (claim.metadata.finalizers?.includes(pvcProtection) && !claimInUse(claim, informers.list('Pod', ns)))
        await objects.removeFinalizer('PersistentVolumeClaim', ns, name, claim.metadata.uid!, pvcProtection);
      return;
    }
    if (claim.spec.volumeName) return syncBoundClaim(claim);
    const sc = claim.spec.storageClassName ? informers.get('StorageClass', undefined, claim.spec.storageClassName) : undefined;
    const node = sc?.volumeBindingMode === 'WaitForFirstConsumer' ? claim.metadata.annotations?.[selectedNodeAnnotation] : undefined;
    if (sc?.volumeBindingMode === 'WaitForFirstConsumer' && !node) {
      await claimStatus(claim, 'Pending');
      return say(claim, 'Normal', 'WaitForFirstConsumer', 'waiting for first consumer to be created before binding');
    }
    const nodeObj = node ? informers.get('Node', undefined, node) : undefined;
    const labels = node ? (nodeObj?.metadata.labels ?? { 'kubernetes.io/hostname': node }) : undefined;
    const pv = matchVolume(claim, informers.list('PersistentVolume'), labels);
    if (pv) return bind(pv, claim);
    await claimStatus(claim, 'Pending');
    if (sc?.provisioner === localPathProvisioner) return provision(claim, sc, node, nodeObj);
    if (!claim.spec.storageClassName) return say(claim, 'Normal', 'FailedBinding', 'no persistent volumes available for this claim and no storage class is set');
    if (!sc) return say(claim, 'Warning', 'ProvisioningFailed', `storageclass.storage.k8s.io "${claim.spec.storageClassName}" not found`);
    say(claim, 'Normal', 'ExternalProvisioning', `waiting for a volume to be created, either by external provisioner "${sc.provisioner}" or manually created by system administrator`);
  }

  /** A claim naming its volume: bind the volume to it when it is free, keep the claim's status. */
  async function syncBoundClaim(claim: PersistentVolumeClaim): Promise<void> {
    const pv = informers.get('PersistentVolume', undefined, claim.spec.volumeName!);
    if (!pv) return claimStatus(claim, claim.status?.phase === 'Bound' || claim.status?.phase === 'Lost' ? 'Lost' : 'Pending');
    if (pv.spec.claimRef && !reservedFor(pv, claim)) {
      await claimStatus(claim, 'Pending');
      return say(claim, 'Warning', 'FailedBinding', `volume "${pv.metadata.name}" already bound to a different claim`);
    }
    return bind(pv, claim);
  }

  /** Binds volume and claim: the volume first (claimRef), then the claim (volumeName, status), as Kubernetes does. */
  async function bind(pv: PersistentVolume, claim: PersistentVolumeClaim): Promise<void> {
    const ref = claimRefTo(claim);
    if (!isDeepStrictEqual(pv.spec.claimRef, ref) || pv.status?.phase !== 'Bound') {
      const done = await objects.mutate('PersistentVolume', undefined, pv.metadata.name, (cur) => {
        if (cur.spec.claimRef && !reservedFor(cur, claim)) return undefined;
        cur.spec.claimRef = ref;
        cur.status = { ...(cur.status ?? {}), phase: 'Bound' };
        return cur;
      });
      if (!done || !reservedFor(done, claim)) return;
    }
    const status = { phase: 'Bound' as const, accessModes: [...pv.spec.accessModes], capacity: { storage: String(pv.spec.capacity.storage) } };
    if (claim.spec.volumeName === pv.metadata.name && isDeepStrictEqual(claim.status, status) && claim.metadata.annotations?.[bindCompletedAnnotation]) return;
    await objects.mutate('PersistentVolumeClaim', claim.metadata.namespace, claim.metadata.name, (cur) => {
      if (cur.metadata.uid !== claim.metadata.uid) return undefined;
      cur.spec.volumeName = pv.metadata.name;
      cur.metadata.annotations = { ...(cur.metadata.annotations ?? {}), [bindCompletedAnnotation]: 'yes' };
      cur.status = status;
      return cur;
    });
  }

  /** local-path: a volume on the selected node, pre-bound to the claim (the volume's event then binds them). */
  async function provision(claim: PersistentVolumeClaim, sc: StorageClass, node: string | undefined, nodeObj: Node | undefined): Promise<void> {
    if (!node) return say(claim, 'Warning', 'ProvisioningFailed', `configuration error, no node was specified: ${sc.provisioner} provisions on the node of the claim's first pod (use volumeBindingMode: WaitForFirstConsumer)`);
    const dir = volumeDirOf(nodeObj);
    if (!dir) return say(claim, 'Warning', 'ProvisioningFailed', `node "${node}" ${nodeObj ? 'does not report a volume directory (its agent predates local-path volumes)' : 'not found'}`);
    const pv = provisionedVolume(claim, sc, node, dir);
    const made = await objects.create(pv).catch((err) => {
      if (err?.code !== 'SKIFF_ERR_ALREADY_EXISTS') throw err;
      return undefined;
    });
    if (made) say(claim, 'Normal', 'ProvisioningSucceeded', `Successfully provisioned volume ${pv.metadata.name} on node ${node} (${pv.spec.hostPath!.path})`);
  }

  async function claimStatus(claim: PersistentVolumeClaim, phase: NonNullable<PersistentVolumeClaim['status']>['phase']): Promise<void> {
    if (claim.status?.phase === phase) return;
    await objects.mutate('PersistentVolumeClaim', claim.metadata.namespace, claim.metadata.name, (cur) => {
      if (cur.metadata.uid !== claim.metadata.uid) return undefined;
      cur.status = phase === 'Bound' ? cur.status : { phase };
      return cur;
    });
  }

  async function syncVolume(name: string): Promise<void> {
    const pv = informers.get('PersistentVolume', undefined, name);
    if (!pv) return;
    const ref = pv.spec.claimRef;
    const claim = ref ? informers.get('PersistentVolumeClaim', ref.namespace, ref.name) : undefined;
    const released = !!ref?.uid && (!claim || claim.metadata.uid !== ref.uid);
    const phase = released ? 'Released' : ref && claim?.spec.volumeName === name ? 'Bound' : 'Available';
    if (pv.metadata.deletionTimestamp) {
      if (phase === 'Bound') return; // pv-protection: a volume goes only once its claim let it go
      if (pv.metadata.finalizers?.includes(localPathFinalizer) && !(await reclaim(pv))) return;
      if (pv.metadata.finalizers?.includes(pvProtection)) await objects.removeFinalizer('PersistentVolume', undefined, name, pv.metadata.uid!, pvProtection);
      return;
    }
    if (pv.status?.phase !== phase && pv.status?.phase !== 'Failed')
      await objects.mutate('PersistentVolume', undefined, name, (cur) => {
        if (cur.metadata.uid !== pv.metadata.uid) return undefined;
        cur.status = { phase };
        return cur;
      });
    if (phase !== 'Released' || pv.spec.persistentVolumeReclaimPolicy !== 'Delete') return;
    if (!pv.metadata.finalizers?.includes(localPathFinalizer)) {
      say(pv, 'Warning', 'VolumeFailedDelete', 'reclaim policy Delete: only volumes local-path provisioned are deleted by Skiff; delete this one yourself');
      return;
    }
    if (await reclaim(pv)) await objects.delete('PersistentVolume', undefined, name).catch((err) => {
      if (err?.code !== 'SKIFF_ERR_NOT_FOUND') throw err;
    });
  }

  /** Deletes a volume's directory (Delete) or keeps it (Retain), then drops its local-path finalizer; false: try again later. */
  async function reclaim(pv: PersistentVolume): Promise<boolean> {
    const outcome = await reclaimDirectory(pv, (n) => informers.get('Node', undefined, n), deleter);
    if (outcome.retryAfterMs !== undefined) {
      say(pv, 'Warning', 'VolumeFailedDelete', outcome.message);
      queue.addAfter(`volume|${pv.metadata.name}`, outcome.retryAfterMs);
      return false;
    }
    say(pv, outcome.deleted ? 'Normal' : 'Warning', outcome.deleted ? 'VolumeDeleted' : 'VolumeNotDeleted', outcome.message);
    await objects.removeFinalizer('PersistentVolume', undefined, pv.metadata.name, pv.metadata.uid!, localPathFinalizer);
    return true;
  }

  return { name: 'volumes', sync, idle: () => queue.idle(), stop: () => queue.stop() };
}

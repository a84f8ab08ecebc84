/**
 * Revision history of the workloads that keep it in ControllerRevisions — DaemonSets and StatefulSets
 * (`historyKinds`). Kubernetes' DaemonSet controller does this in
 * its sync (constructHistory): the revision whose template matches the owner's is the current one; a new
 * template gets a new revision numbered one above the highest; a template that matches an older revision
 * (a rollback) moves that revision to the top; beyond `spec.revisionHistoryLimit` the oldest go — but never
 * one the owner's status names (a StatefulSet's currentRevision: its pods below the partition are made from it). The
 * revision is named `<owner>-<template hash>`, the hash the owner's pods carry in `controller-revision-hash`.
 */
import type { ControllerRevision, KindMap, KindName, KObject } from '../../protocol/index.js';
import { realClock } from '../clock.js';
import { cacheKey, keyOf } from '../informer.js';
import { templateHash } from './deployment/hash.js';
import { changeCauseAnnotation } from './deployment/state.js';
import { controllerOf, controllerRef, isTerminating } from './pods.js';
import { WorkQueue } from './queue.js';
import type { ControllerContext, SyncController } from './types.js';

/** The kinds whose history lives in ControllerRevisions. */
export const historyKinds = ['DaemonSet', 'StatefulSet'] as const satisfies readonly KindName[];

/** A kind whose history lives in ControllerRevisions. */
export type HistoryKind = (typeof historyKinds)[number];

/** A workload of a history kind: a pod template and a history limit. */
export type HistoryOwner = KindMap[HistoryKind];

/** True when `kind` keeps its history in ControllerRevisions. */
export function isHistoryKind(kind: string): kind is HistoryKind {
  return (historyKinds as readonly string[]).includes(kind);
}

/** The ControllerRevisions an owner controls, oldest revision first. */
export function revisionsOf(owner: KObject, all: ControllerRevision[]): ControllerRevision[] {
  return all.filter((r) => controllerOf(r)?.uid === owner.metadata.uid).sort((a, b) => a.revision - b.revision);
}

/** Starts the history controller. */
export function startHistoryController(ctx: ControllerContext): SyncController {
  const { informers, objects } = ctx;
  const queue = new WorkQueue('history', sync, ctx.log, ctx.clock ?? realClock);
  for (const kind of historyKinds) informers.on(kind, (_o, _old, x) => queue.add(`${kind}|${keyOf(x)}`));
  informers.on('ControllerRevision', (_o, _old, r) => {
    const ref = controllerOf(r);
    if (ref && isHistoryKind(ref.kind)) queue.add(`${ref.kind}|${cacheKey(r.metadata.namespace, ref.name)}`);
  });

  /** `sync('DaemonSet|ns/name')`: the owner's revisions brought in line with its template. */
  async function sync(key: string): Promise<void> {
    const [kind, nsName = ''] = key.split('|');
    const [ns, name] = nsName.split('/');
    if (!isHistoryKind(kind)) return;
    const owner = informers.get(kind, ns, name);
    if (!owner || isTerminating(owner)) return;
    const revs = revisionsOf(owner, informers.list('ControllerRevision', ns));
    const hash = templateHash(owner.spec.template);
    const top = revs.at(-1)?.revision ?? 0;
    const current = revs.find((r) => r.metadata.name === `${name}-${hash}`);
    const cause = owner.metadata.annotations?.[changeCauseAnnotation];
    if (!current) await objects.create(newRevision(owner, hash, top + 1, cause));
    else if (current.revision < top)
      await objects.mutate('ControllerRevision', ns, current.metadata.name, (r) => {
        r.revision = top + 1;
        if (cause !== undefined) r.metadata.annotations = { ...(r.metadata.annotations ?? {}), [changeCauseAnnotation]: cause };
        return r;
      });
    // A StatefulSet's pods below the partition are made from its current revision: kept while it names it.
    const inUse = new Set(owner.kind === 'StatefulSet' ? [owner.status?.currentRevision, owner.status?.updateRevision].filter(Boolean) : []);
    const old = revs.filter((r) => r !== current && !inUse.has(r.metadata.name));
    const excess = old.length - (owner.spec.revisionHistoryLimit ?? 10);
    for (const r of old.slice(0, Math.max(0, excess)))
      await objects.delete('ControllerRevision', ns, r.metadata.name).catch((err) => {
        if (err?.code !== 'SKIFF_ERR_NOT_FOUND') throw err;
      });
  }

  return { name: 'history', sync, idle: () => queue.idle(), stop: () => queue.stop() };
}

function newRevision(owner: HistoryOwner, hash: string, revision: number, cause: string | undefined): ControllerRevision {
  return {
    apiVersion: 'apps/v1',
    kind: 'ControllerRevision',
    metadata: {
      name: `${owner.metadata.name}-${hash}`,
      namespace: owner.metadata.namespace,
      labels: { ...(owner.spec.template.metadata?.labels ?? {}), 'controller-revision-hash': hash },
      ...(cause !== undefined ? { annotations: { [changeCauseAnnotation]: cause } } : {}),
      ownerReferences: [controllerRef(owner)],
    },
    data: { spec: { template: structuredClone(owner.spec.template) } },
    revision,
  };
}

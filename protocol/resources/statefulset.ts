/** StatefulSet (apps/v1): its type, validation and defaults. The controller is master/controllers/statefulset/. */
import type { Checker } from '../check.js';
import { isObject } from '../check.js';
import type { Condition, KObject, LabelSelector, ObjectMeta, PodTemplateSpec } from '../types.js';
import { defaultPodSpec } from './podspec.js';
import { checkClaimSpec, defaultClaimSpec, type PersistentVolumeClaimSpec } from './storage.js';
import { checkPodTemplate } from './template.js';

/** A claim template of a StatefulSet: each pod gets its own claim `<template>-<set>-<ordinal>`. */
export interface ClaimTemplate {
  apiVersion?: string;
  kind?: string;
  metadata: Partial<ObjectMeta> & { name: string };
  spec: PersistentVolumeClaimSpec;
}

/** A StatefulSet: pods with stable names (`web-0`, `web-1`, ...), stable storage and ordered deployment. */
export interface StatefulSet extends KObject {
  kind: 'StatefulSet';
  spec: {
    replicas?: number;
    selector: LabelSelector;
    template: PodTemplateSpec;
    /** The headless Service that gives each pod its DNS name `<pod>.<serviceName>.<namespace>.svc.cluster.local`. */
    serviceName?: string;
    podManagementPolicy?: 'OrderedReady' | 'Parallel';
    updateStrategy?: { type?: 'RollingUpdate' | 'OnDelete'; rollingUpdate?: { partition?: number; maxUnavailable?: number | string } };
    revisionHistoryLimit?: number;
    minReadySeconds?: number;
    volumeClaimTemplates?: ClaimTemplate[];
    persistentVolumeClaimRetentionPolicy?: { whenDeleted?: 'Retain' | 'Delete'; whenScaled?: 'Retain' | 'Delete' };
    ordinals?: { start?: number };
  };
  status?: {
    observedGeneration?: number;
    replicas: number;
    readyReplicas?: number;
    currentReplicas?: number;
    updatedReplicas?: number;
    availableReplicas?: number;
    currentRevision?: string;
    updateRevision?: string;
    collisionCount?: number;
    conditions?: Condition[];
  };
}

const retention = ['Retain', 'Delete'] as const;

/** Checks a StatefulSet's spec: selector and template, policies, update strategy, claim templates. */
export function checkStatefulSet(c: Checker, o: Record<string, any>): void {
  if (!c.object(o.spec, 'spec', true)) return;
  const s = o.spec;
  const claims: string[] = [];
  if (c.array(s.volumeClaimTemplates, 'spec.volumeClaimTemplates'))
    s.volumeClaimTemplates.forEach((t: unknown, i: number) => {
      const f = `spec.volumeClaimTemplates[${i}]`;
      if (!c.object(t, f, true)) return;
      if (c.object(t.metadata, `${f}.metadata`, true) && c.dnsLabel(t.metadata.name, `${f}.metadata.name`, true)) {
        if (claims.includes(t.metadata.name)) c.fail(`${f}.metadata.name`, 'must be unique', t.metadata.name);
        claims.push(t.metadata.name);
        c.labels(t.metadata.labels, `${f}.metadata.labels`);
        c.stringMap(t.metadata.annotations, `${f}.metadata.annotations`);
      }
      checkClaimSpec(c, t.spec, `${f}.spec`);
    });
  checkPodTemplate(c, s, { selectorRequired: true, policies: ['Always'], why: 'for a StatefulSet (its pods run until scaled down)', claimTemplates: claims });
  const volumes = isObject(s.template?.spec) && Array.isArray(s.template.spec.volumes) ? s.template.spec.volumes : [];
  volumes.forEach((v: unknown, i: number) => {
    if (isObject(v) && claims.includes(v.name)) c.fail(`spec.template.spec.volumes[${i}].name`, 'must not repeat a volumeClaimTemplates name (the claim gives that volume)', v.name);
  });
  c.int(s.replicas, 'spec.replicas', 0);
  c.int(s.minReadySeconds, 'spec.minReadySeconds', 0);
  c.int(s.revisionHistoryLimit, 'spec.revisionHistoryLimit', 0);
  if (c.string(s.serviceName, 'spec.serviceName') && s.serviceName !== '') c.dnsLabel(s.serviceName, 'spec.serviceName');
  c.oneOf(s.podManagementPolicy, 'spec.podManagementPolicy', ['OrderedReady', 'Parallel']);
  if (c.object(s.updateStrategy, 'spec.updateStrategy')) {
    c.oneOf(s.updateStrategy.type, 'spec.updateStrategy.type', ['RollingUpdate', 'OnDelete']);
    if (c.object(s.updateStrategy.rollingUpdate, 'spec.updateStrategy.rollingUpdate')) {
      if (s.updateStrategy.type === 'OnDelete') c.fail('spec.updateStrategy.rollingUpdate', 'may not be set when type is OnDelete');
      c.int(s.updateStrategy.rollingUpdate.partition, 'spec.updateStrategy.rollingUpdate.partition', 0);
      c.intOrPercent(s.updateStrategy.rollingUpdate.maxUnavailable, 'spec.updateStrategy.rollingUpdate.maxUnavailable');
      const mu = s.updateStrategy.rollingUpdate.maxUnavailable;
      if (mu === 0 || mu === '0%') c.fail('spec.updateStrategy.rollingUpdate.maxUnavailable', 'must be at least 1', mu);
    }
  }
  if (c.object(s.persistentVolumeClaimRetentionPolicy, 'spec.persistentVolumeClaimRetentionPolicy')) {
    c.oneOf(s.persistentVolumeClaimRetentionPolicy.whenDeleted, 'spec.persistentVolumeClaimRetentionPolicy.whenDeleted', retention);
    c.oneOf(s.persistentVolumeClaimRetentionPolicy.whenScaled, 'spec.persistentVolumeClaimRetentionPolicy.whenScaled', retention);
  }
  if (c.object(s.ordinals, 'spec.ordinals')) c.int(s.ordinals.start, 'spec.ordinals.start', 0);
}

/** StatefulSet defaults, as apps/v1: 1 replica, OrderedReady, RollingUpdate with partition 0, history 10, claims retained. */
export function defaultStatefulSet(o: StatefulSet): void {
  const s = o.spec;
  s.replicas ??= 1;
  s.podManagementPolicy ??= 'OrderedReady';
  s.minReadySeconds ??= 0;
  s.revisionHistoryLimit ??= 10;
  s.updateStrategy ??= {};
  s.updateStrategy.type ??= 'RollingUpdate';
  if (s.updateStrategy.type === 'RollingUpdate') {
    s.updateStrategy.rollingUpdate ??= {};
    s.updateStrategy.rollingUpdate.partition ??= 0;
  }
  s.persistentVolumeClaimRetentionPolicy ??= {};
  s.persistentVolumeClaimRetentionPolicy.whenDeleted ??= 'Retain';
  s.persistentVolumeClaimRetentionPolicy.whenScaled ??= 'Retain';
  for (const t of s.volumeClaimTemplates ?? []) defaultClaimSpec(t.spec);
  defaultPodSpec(s.template.spec);
}

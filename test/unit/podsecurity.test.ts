/**
 * Pod Security checks (master/admission/checks.ts, podsecurity.ts), table by table: each baseline and restricted
 * check finds what Kubernetes' finds and says it in Kubernetes' words; namespace labels choose the levels; a
 * process pod is baseline only when it runs as another user.
 */
import { describe, expect, it } from 'vitest';
import { admitPodSecurity, namespaceLevels, violations, type Level } from '../../master/admission/podsecurity.js';
import type { KObject, PodSpec } from '../../protocol/index.js';

/** A container pod (image set) that passes restricted; `patch` breaks one rule. */
function restrictedSpec(patch: (s: PodSpec) => void = () => {}): PodSpec {
  const s: PodSpec = {
    securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
    containers: [{ name: 'app', image: 'x', securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } } }],
    volumes: [{ name: 'cfg', configMap: { name: 'c' } }],
  };
  patch(s);
  return s;
}
const sc = (s: PodSpec) => s.containers[0].securityContext!;

type Patch = (s: PodSpec) => unknown;

describe('baseline', () => {
  it.each<[string, Patch, string]>([
    ['hostPath', (s: PodSpec) => s.volumes!.push({ name: 'root', hostPath: { path: '/' } }), 'hostPath volumes (volume "root")'],
    ['two hostPaths', (s: PodSpec) => s.volumes!.push({ name: 'a', hostPath: { path: '/a' } }, { name: 'b', hostPath: { path: '/b' } }), 'hostPath volumes (volumes "a", "b")'],
    ['privileged', (s: PodSpec) => (sc(s).privileged = true), 'privileged (container "app" must not set securityContext.privileged=true)'],
    ['hostNetwork and hostPID', (s: PodSpec) => Object.assign(s, { hostNetwork: true, hostPID: true }), 'host namespaces (hostNetwork=true, hostPID=true)'],
    ['hostIPC', (s: PodSpec) => (s.hostIPC = true), 'host namespaces (hostIPC=true)'],
    ['NET_ADMIN', (s: PodSpec) => (sc(s).capabilities!.add = ['NET_ADMIN']), 'non-default capabilities (container "app" must not include "NET_ADMIN" in securityContext.capabilities.add)'],
    ['hostPort', (s: PodSpec) => (s.containers[0].ports = [{ containerPort: 80, hostPort: 8080 }]), 'hostPort (container "app" uses hostPort 8080)'],
    ['seccomp Unconfined', (s: PodSpec) => (s.securityContext!.seccompProfile = { type: 'Unconfined' }), 'seccompProfile (pod must not set securityContext.seccompProfile.type to "Unconfined")'],
  ])('%s', (_what, patch, want) => {
    expect(violations(restrictedSpec(), 'baseline')).toEqual([]);
    expect(violations(restrictedSpec(patch), 'baseline')).toEqual([want]);
    expect(violations(restrictedSpec(patch), 'privileged')).toEqual([]);
  });

  it('allows the default capabilities and the rest of what baseline allows', () => {
    expect(violations(restrictedSpec((s) => (sc(s).capabilities = { add: ['CHOWN', 'NET_BIND_SERVICE'] })), 'baseline')).toEqual([]);
    expect(violations(restrictedSpec((s) => (s.containers[0].securityContext = {})), 'baseline')).toEqual([]);
  });

  it('several rules broken: all named, in order, in one message', () => {
    const spec = restrictedSpec((s) => {
      s.volumes!.push({ name: 'root', hostPath: { path: '/' } });
      sc(s).privileged = true;
    });
    const pod: KObject = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'evil', namespace: 'shop' }, spec };
    expect(() => admitPodSecurity(pod, namespaceLevels({}, 'baseline'))).toThrow(
      'pods "evil" is forbidden: violates PodSecurity "baseline:latest": privileged (container "app" must not set securityContext.privileged=true), hostPath volumes (volume "root")',
    );
  });
});

describe('process pods', () => {
  const processPod = (patch: (s: PodSpec) => void = () => {}): PodSpec => {
    const s: PodSpec = { containers: [{ name: 'web', command: ['node', 'server.js'] }, { name: 'side', command: ['sleep', '1'] }] };
    patch(s);
    return s;
  };

  it('run as the agent unless they name a user: privileged-level', () => {
    expect(violations(processPod(), 'baseline')).toEqual([
      'host process (runtimeClassName "process" runs containers "web", "side" on the host as the agent\'s user; they must set securityContext.runAsUser to a non-root user)',
    ]);
    expect(violations(processPod((s) => (s.containers[1].securityContext = { runAsUser: 1000 })), 'baseline')).toEqual([
      'host process (runtimeClassName "process" runs container "web" on the host as the agent\'s user; it must set securityContext.runAsUser to a non-root user)',
    ]);
    expect(violations(processPod((s) => (s.securityContext = { runAsUser: 0 })), 'baseline')).toHaveLength(1);
    expect(violations(processPod(), 'privileged')).toEqual([]);
  });

  it('with a pod-level runAsUser they are baseline; the host network they share by design is not counted', () => {
    expect(violations(processPod((s) => (s.securityContext = { runAsUser: 65534 })), 'baseline')).toEqual([]);
  });

  it('restricted asks for the rest as for any pod', () => {
    const spec = processPod((s) => {
      s.securityContext = { runAsUser: 65534, runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } };
      for (const c of s.containers) c.securityContext = { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } };
    });
    expect(violations(spec, 'restricted')).toEqual([]);
  });
});

describe('restricted', () => {
  it.each<[string, Patch, string[]]>([
    ['hostPath (also a restricted volume type)', (s: PodSpec) => s.volumes!.push({ name: 'h', hostPath: { path: '/x' } }), ['hostPath volumes (volume "h")', 'restricted volume types (volume "h" uses restricted volume type "hostPath")']],
    ['allowPrivilegeEscalation unset', (s: PodSpec) => delete sc(s).allowPrivilegeEscalation, ['allowPrivilegeEscalation != false (container "app" must set securityContext.allowPrivilegeEscalation=false)']],
    ['no drop ALL', (s: PodSpec) => (sc(s).capabilities = {}), ['unrestricted capabilities (container "app" must set securityContext.capabilities.drop=["ALL"])']],
    ['adds CHOWN', (s: PodSpec) => (sc(s).capabilities!.add = ['CHOWN']), ['unrestricted capabilities (container "app" must not include "CHOWN" in securityContext.capabilities.add)']],
    ['runAsNonRoot unset', (s: PodSpec) => delete s.securityContext!.runAsNonRoot, ['runAsNonRoot != true (pod or container "app" must set securityContext.runAsNonRoot=true)']],
    ['runAsUser 0', (s: PodSpec) => (sc(s).runAsUser = 0), ['runAsUser=0 (container "app" must not set runAsUser=0)']],
    ['no seccomp', (s: PodSpec) => delete s.securityContext!.seccompProfile, ['seccompProfile (pod or container "app" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")']],
  ])('%s', (_what, patch, want) => {
    expect(violations(restrictedSpec(), 'restricted')).toEqual([]);
    expect(violations(restrictedSpec(patch), 'restricted')).toEqual(want);
  });
});

describe('levels from namespace labels', () => {
  const L = (labels: Record<string, string> | undefined, def: Level = 'baseline') => namespaceLevels(labels, def);

  it('enforce from the label, else the default; warn and audit only when labelled; a bad value fails closed', () => {
    expect(L(undefined)).toEqual({ enforce: 'baseline', warn: undefined, audit: undefined });
    expect(L({ 'pod-security.kubernetes.io/enforce': 'privileged' })).toMatchObject({ enforce: 'privileged' });
    expect(L({ 'pod-security.kubernetes.io/warn': 'restricted', 'pod-security.kubernetes.io/audit': 'restricted' }, 'privileged')).toEqual({ enforce: 'privileged', warn: 'restricted', audit: 'restricted' });
    expect(L({ 'pod-security.kubernetes.io/enforce': 'strict' })).toMatchObject({ enforce: 'restricted' });
  });

  it('warn and audit findings come back without refusing; workloads are checked through their template', () => {
    const spec = restrictedSpec((s) => delete sc(s).allowPrivilegeEscalation);
    const d: KObject = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'shop' }, spec: { template: { spec } } };
    expect(admitPodSecurity(d, { enforce: 'baseline', warn: 'restricted', audit: 'restricted' })).toEqual({
      warnings: ['would violate PodSecurity "restricted:latest": allowPrivilegeEscalation != false (container "app" must set securityContext.allowPrivilegeEscalation=false)'],
      audit: ['violates PodSecurity "restricted:latest": allowPrivilegeEscalation != false (container "app" must set securityContext.allowPrivilegeEscalation=false)'],
    });
    const cj: KObject = { apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name: 'nightly', namespace: 'shop' }, spec: { jobTemplate: { spec: { template: { spec } } } } };
    expect(() => admitPodSecurity(cj, { enforce: 'restricted', warn: undefined, audit: undefined })).toThrow(
      'CronJob/nightly: spec.jobTemplate.spec.template: violates PodSecurity "restricted:latest": allowPrivilegeEscalation != false',
    );
    expect(admitPodSecurity({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' } }, { enforce: 'restricted', warn: undefined, audit: undefined })).toEqual({ warnings: [], audit: [] });
  });
});

// `skiff master --scheduler-config FILE`: a KubeSchedulerConfiguration read into the engine's
// scoring settings, table by table — what is read, and every refusal naming the field.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_WEIGHTS } from '../../core-wasm/index.js';
import { resolveConfig } from '../../master/config.js';
import { parseMasterArgs } from '../../master/main.js';
import { defaultSchedulerSettings, loadSchedulerConfig, parseSchedulerConfig } from '../../master/scheduler/config.js';
import { SkiffError } from '../../protocol/index.js';

const apiVersion = 'kubescheduler.config.k8s.io/v1';
/** A KubeSchedulerConfiguration with one profile. */
const config = (profile: Record<string, unknown>) => ({ apiVersion, kind: 'KubeSchedulerConfiguration', profiles: [profile] });
/** A profile configuring NodeResourcesFit's scoringStrategy. */
const strategy = (scoringStrategy: unknown) => config({ pluginConfig: [{ name: 'NodeResourcesFit', args: { scoringStrategy } }] });
const packing = [{ utilization: 0, score: 0 }, { utilization: 100, score: 10 }];

describe('scheduler config: what is read', () => {
  it.each([
    ['no profiles: kube-scheduler defaults', { apiVersion, kind: 'KubeSchedulerConfiguration' }, defaultSchedulerSettings],
    ['MostAllocated', strategy({ type: 'MostAllocated' }), { ...defaultSchedulerSettings, resourceStrategy: 'MostAllocated' }],
    [
      'MostAllocated with resource weights (unlisted resources are not scored)',
      strategy({ type: 'MostAllocated', resources: [{ name: 'cpu', weight: 3 }, { name: 'ephemeral-storage', weight: 1 }] }),
      { ...defaultSchedulerSettings, resourceStrategy: 'MostAllocated', resourceWeights: { cpu: 3, memory: 0, ephemeralStorage: 1 } },
    ],
    ['empty resources: the defaults', strategy({ type: 'LeastAllocated', resources: [] }), defaultSchedulerSettings],
    [
      'RequestedToCapacityRatio with its shape',
      strategy({ type: 'RequestedToCapacityRatio', requestedToCapacityRatio: { shape: packing } }),
      { ...defaultSchedulerSettings, resourceStrategy: 'RequestedToCapacityRatio', shape: packing },
    ],
    [
      'score plugin weights: enabled replaces a default weight, 0 or none means 1',
      config({ plugins: { score: { enabled: [{ name: 'PodTopologySpread', weight: 5 }, { name: 'TaintToleration' }, { name: 'NodeAffinity', weight: 0 }] } } }),
      { ...defaultSchedulerSettings, weights: { ...DEFAULT_WEIGHTS, topologySpread: 5, taintToleration: 1, nodeAffinity: 1 } },
    ],
    [
      'disabled turns a plugin off',
      config({ plugins: { score: { disabled: [{ name: 'ImageLocality' }, { name: 'NodeResourcesBalancedAllocation' }] } } }),
      { ...defaultSchedulerSettings, weights: { ...DEFAULT_WEIGHTS, imageLocality: 0, balancedAllocation: 0 } },
    ],
    [
      'disabled * then enabled: only the enabled ones',
      config({ schedulerName: 'default-scheduler', plugins: { score: { disabled: [{ name: '*' }], enabled: [{ name: 'NodeResourcesFit', weight: 2 }] } } }),
      { ...defaultSchedulerSettings, weights: { resources: 2, balancedAllocation: 0, nodeAffinity: 0, taintToleration: 0, topologySpread: 0, imageLocality: 0 } },
    ],
    [
      'typed args (apiVersion and kind of NodeResourcesFitArgs)',
      config({ pluginConfig: [{ name: 'NodeResourcesFit', args: { apiVersion, kind: 'NodeResourcesFitArgs', scoringStrategy: { type: 'MostAllocated' } } }] }),
      { ...defaultSchedulerSettings, resourceStrategy: 'MostAllocated' },
    ],
  ])('%s', (_what, doc, want) => {
    expect(parseSchedulerConfig(doc)).toEqual(want);
  });
});

describe('scheduler config: refusals name the field', () => {
  const f = 'profiles[0].pluginConfig[0].args.scoringStrategy';
  it.each([
    ['wrong apiVersion', { ...config({}), apiVersion: 'kubescheduler.config.k8s.io/v1beta3' }, 'apiVersion: must be kubescheduler.config.k8s.io/v1, got "kubescheduler.config.k8s.io/v1beta3"'],
    ['wrong kind', { ...config({}), kind: 'Scheduler' }, 'kind: must be KubeSchedulerConfiguration'],
    ['an unsupported top-level field', { ...config({}), percentageOfNodesToScore: 50 }, 'percentageOfNodesToScore: is not supported'],
    ['two profiles', { apiVersion, kind: 'KubeSchedulerConfiguration', profiles: [{}, {}] }, 'profiles: must have at most one profile'],
    ['another scheduler name', config({ schedulerName: 'bin-packer' }), 'profiles[0].schedulerName: must be default-scheduler'],
    ['a filter plugin set', config({ plugins: { filter: { disabled: [{ name: '*' }] } } }), 'profiles[0].plugins.filter: is not supported'],
    ['an unknown score plugin', config({ plugins: { score: { enabled: [{ name: 'InterPodAffinity', weight: 2 }] } } }), 'profiles[0].plugins.score.enabled[0].name: must be one of NodeResourcesFit, NodeResourcesBalancedAllocation, NodeAffinity, TaintToleration, PodTopologySpread, ImageLocality, got "InterPodAffinity"'],
    ['a weight out of range', config({ plugins: { score: { enabled: [{ name: 'NodeAffinity', weight: 101 }] } } }), 'profiles[0].plugins.score.enabled[0].weight: must be an integer from 0 to 100, got 101'],
    ['args for another plugin', config({ pluginConfig: [{ name: 'PodTopologySpread', args: {} }] }), 'profiles[0].pluginConfig[0].name: must be NodeResourcesFit'],
    ['no scoringStrategy', config({ pluginConfig: [{ name: 'NodeResourcesFit', args: {} }] }), `${f}: is required`],
    ['ignoredResources', config({ pluginConfig: [{ name: 'NodeResourcesFit', args: { ignoredResources: ['x'], scoringStrategy: { type: 'LeastAllocated' } } }] }), 'profiles[0].pluginConfig[0].args.ignoredResources: is not supported'],
    ['an unknown strategy', strategy({ type: 'BinPacking' }), `${f}.type: must be one of LeastAllocated, MostAllocated, RequestedToCapacityRatio, got "BinPacking"`],
    ['no strategy type', strategy({ resources: [{ name: 'cpu', weight: 1 }] }), `${f}.type: is required`],
    ['an unknown resource', strategy({ type: 'MostAllocated', resources: [{ name: 'nvidia.com/gpu', weight: 1 }] }), `${f}.resources[0].name: must be one of cpu, memory, ephemeral-storage`],
    ['a resource weight of 0', strategy({ type: 'MostAllocated', resources: [{ name: 'cpu', weight: 0 }] }), `${f}.resources[0].weight: must be an integer from 1 to 100, got 0`],
    ['a resource twice', strategy({ type: 'MostAllocated', resources: [{ name: 'cpu', weight: 1 }, { name: 'cpu', weight: 2 }] }), `${f}.resources[1].name: is listed twice`],
    ['RequestedToCapacityRatio without its args', strategy({ type: 'RequestedToCapacityRatio' }), `${f}.requestedToCapacityRatio: is required`],
    ['an empty shape', strategy({ type: 'RequestedToCapacityRatio', requestedToCapacityRatio: { shape: [] } }), `${f}.requestedToCapacityRatio.shape: must have at least one point`],
    ['a shape not increasing', strategy({ type: 'RequestedToCapacityRatio', requestedToCapacityRatio: { shape: [{ utilization: 50, score: 1 }, { utilization: 40, score: 2 }] } }), `${f}.requestedToCapacityRatio.shape[1].utilization: must be greater than the previous point's`],
    ['a shape score over 10', strategy({ type: 'RequestedToCapacityRatio', requestedToCapacityRatio: { shape: [{ utilization: 50, score: 20 }] } }), `${f}.requestedToCapacityRatio.shape[0].score: must be an integer from 0 to 10, got 20`],
    ['a shape with another strategy', strategy({ type: 'MostAllocated', requestedToCapacityRatio: { shape: packing } }), `${f}.requestedToCapacityRatio: must be absent unless type is RequestedToCapacityRatio`],
  ])('%s', (_what, doc, message) => {
    let err: unknown;
    try {
      parseSchedulerConfig(doc, 'sched.yaml');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SkiffError);
    expect((err as SkiffError).code).toBe('SKIFF_ERR_VALIDATION');
    expect((err as SkiffError).message).toContain(`sched.yaml: `);
    expect((err as SkiffError).message).toContain(message);
  });

  it('reports every broken rule at once', () => {
    const doc = strategy({ type: 'Packed', resources: [{ name: 'gpu', weight: 500 }] });
    expect(() => parseSchedulerConfig(doc)).toThrow(/type: must be one of.*; .*resources\[0\]\.name: must be one of.*; .*resources\[0\]\.weight: must be an integer from 1 to 100/);
  });
});

describe('scheduler config file and flag', () => {
  const dir = mkdtempSync(join(tmpdir(), 'skiff-sched-'));
  const file = (name: string, text: string) => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  };
  const yaml = `apiVersion: ${apiVersion}
kind: KubeSchedulerConfiguration
profiles:
- pluginConfig:
  - name: NodeResourcesFit
    args:
      scoringStrategy:
        type: RequestedToCapacityRatio
        resources: [{name: cpu, weight: 2}, {name: memory, weight: 1}]
        requestedToCapacityRatio:
          shape: [{utilization: 0, score: 0}, {utilization: 100, score: 10}]
`;

  it('reads YAML into the engine settings', () => {
    expect(loadSchedulerConfig(file('ok.yaml', yaml))).toEqual({ ...defaultSchedulerSettings, resourceStrategy: 'RequestedToCapacityRatio', resourceWeights: { cpu: 2, memory: 1, ephemeralStorage: 0 }, shape: packing });
  });

  it('names the file and line of a YAML error, a missing file, and several documents', () => {
    expect(() => loadSchedulerConfig(file('bad.yaml', 'profiles: [\n'))).toThrow(/bad\.yaml \(line \d+, column \d+\)/);
    expect(() => loadSchedulerConfig(join(dir, 'missing.yaml'))).toThrow(/--scheduler-config .*missing\.yaml: cannot read/);
    expect(() => loadSchedulerConfig(file('two.yaml', `${yaml}---\n${yaml}`))).toThrow(/two\.yaml: must hold one KubeSchedulerConfiguration, found 2 documents/);
  });

  it('--scheduler-config is a master flag, read and checked once by resolveConfig', () => {
    const ok = file('flag.yaml', yaml);
    expect(parseMasterArgs(['--scheduler-config', ok])).toMatchObject({ schedulerConfig: ok });
    expect(resolveConfig({ dataDir: dir, schedulerConfig: ok }).scheduler.resourceStrategy).toBe('RequestedToCapacityRatio');
    expect(resolveConfig({ dataDir: dir }).scheduler).toEqual(defaultSchedulerSettings);
    const bad = file('flag-bad.yaml', yaml.replace('RequestedToCapacityRatio', 'Packed'));
    expect(() => resolveConfig({ dataDir: dir, schedulerConfig: bad })).toThrow(`${bad}: profiles[0].pluginConfig[0].args.scoringStrategy.type: must be one of`);
  });
});

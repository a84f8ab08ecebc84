/**
 * `skiff master --scheduler-config FILE`: a KubeSchedulerConfiguration (kubescheduler.config.k8s.io/v1)
 * read once at start-up into the engine's scoring settings. What Skiff reads, in Kubernetes' shape:
 * - `profiles[0].pluginConfig[]` entry `NodeResourcesFit`: `args.scoringStrategy.type`
 *   (LeastAllocated, MostAllocated, RequestedToCapacityRatio), `resources` (cpu, memory,
 *   ephemeral-storage, weight 1–100; default cpu 1 and memory 1) and
 *   `requestedToCapacityRatio.shape` (utilization 0–100 increasing, score 0–10);
 * - `profiles[0].plugins.score.enabled[]` / `.disabled[]`: the weights of the engine's score plugins
 *   (enabled replaces a default plugin's weight; a weight of 0 or none means 1, as kube-scheduler
 *   says "a weight of zero is not permitted"; disabled — or `*` — turns plugins off, i.e. weight 0).
 * Everything else is refused with the field named, rather than silently ignored: Skiff runs one
 * profile and a fixed filter pipeline (docs/scheduler.md).
 */
import { readFileSync } from 'node:fs';
import type { ResourceStrategy, ResourceWeights, ScoreWeights, UtilizationShapePoint } from '../../core-wasm/index.js';
import { DEFAULT_RESOURCE_WEIGHTS, DEFAULT_WEIGHTS } from '../../core-wasm/index.js';
import { Checker, isObject, parseManifests, SkiffError } from '../../protocol/index.js';

/** The scheduler's scoring settings, as the engine takes them (a part of EngineOptions). */
export interface SchedulerSettings {
  resourceStrategy: ResourceStrategy;
  resourceWeights: ResourceWeights;
  weights: ScoreWeights;
  /** RequestedToCapacityRatio only. */
  shape?: UtilizationShapePoint[];
}

/** kube-scheduler's defaults: LeastAllocated on cpu and memory, the default plugin weights. */
export const defaultSchedulerSettings: Readonly<SchedulerSettings> = Object.freeze({
  resourceStrategy: 'LeastAllocated',
  resourceWeights: DEFAULT_RESOURCE_WEIGHTS,
  weights: DEFAULT_WEIGHTS,
});

/** The engine's score plugins by their kube-scheduler names. */
export const scorePlugins = {
  NodeResourcesFit: 'resources',
  NodeResourcesBalancedAllocation: 'balancedAllocation',
  NodeAffinity: 'nodeAffinity',
  TaintToleration: 'taintToleration',
  PodTopologySpread: 'topologySpread',
  ImageLocality: 'imageLocality',
} as const satisfies Record<string, keyof ScoreWeights>;
type PluginName = keyof typeof scorePlugins;
const pluginNames = Object.keys(scorePlugins) as PluginName[];

/** Resource names of scoringStrategy.resources the engine scores. */
const resourceNames = { cpu: 'cpu', memory: 'memory', 'ephemeral-storage': 'ephemeralStorage' } as const satisfies Record<string, keyof ResourceWeights>;
const strategies = ['LeastAllocated', 'MostAllocated', 'RequestedToCapacityRatio'] as const;
const apiVersion = 'kubescheduler.config.k8s.io/v1';

/** Fields that are not in `known` are refused (a setting Skiff would otherwise ignore). */
function onlyKnown(c: Checker, o: Record<string, unknown>, path: string, known: readonly string[], why: string): void {
  for (const k of Object.keys(o)) if (!known.includes(k)) c.fail(`${path}${path ? '.' : ''}${k}`, `is not supported (${why})`);
}

/** Reads and checks a KubeSchedulerConfiguration file; throws a SkiffError naming the file and field. */
export function loadSchedulerConfig(file: string): SchedulerSettings {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `--scheduler-config ${file}: cannot read: ${(err as Error).message}`);
  }
  const docs = parseManifests(text, file);
  if (docs.length !== 1) throw new SkiffError('SKIFF_ERR_VALIDATION', `${file}: must hold one KubeSchedulerConfiguration, found ${docs.length} documents`);
  return parseSchedulerConfig(docs[0], file);
}

/** Checks a KubeSchedulerConfiguration object and returns the engine settings; throws naming `source` and the field. */
export function parseSchedulerConfig(doc: unknown, source = 'KubeSchedulerConfiguration'): SchedulerSettings {
  const c = new Checker(source);
  const out: SchedulerSettings = { ...defaultSchedulerSettings, resourceWeights: { ...DEFAULT_RESOURCE_WEIGHTS }, weights: { ...DEFAULT_WEIGHTS } };
  if (!isObject(doc)) throw new SkiffError('SKIFF_ERR_VALIDATION', `${source}: must be a map (a KubeSchedulerConfiguration)`);
  if (doc.apiVersion !== apiVersion) c.fail('apiVersion', `must be ${apiVersion}`, doc.apiVersion);
  if (doc.kind !== 'KubeSchedulerConfiguration') c.fail('kind', 'must be KubeSchedulerConfiguration', doc.kind);
  onlyKnown(c, doc, '', ['apiVersion', 'kind', 'profiles'], 'Skiff reads apiVersion, kind and profiles');
  if (c.array(doc.profiles, 'profiles')) {
    if (doc.profiles.length > 1) c.fail('profiles', `must have at most one profile (Skiff runs one scheduler), got ${doc.profiles.length}`);
    if (doc.profiles.length > 0) checkProfile(c, doc.profiles[0], 'profiles[0]', out);
  }
  c.throwIfAny();
  return out;
}

/** One profile: schedulerName, plugins.score, pluginConfig. */
function checkProfile(c: Checker, p: unknown, path: string, out: SchedulerSettings): void {
  if (!c.object(p, path, true)) return;
  onlyKnown(c, p, path, ['schedulerName', 'plugins', 'pluginConfig'], 'a profile has schedulerName, plugins and pluginConfig');
  if (p.schedulerName !== undefined && p.schedulerName !== 'default-scheduler') c.fail(`${path}.schedulerName`, 'must be default-scheduler (Skiff pods have no spec.schedulerName)', p.schedulerName);
  if (c.object(p.plugins, `${path}.plugins`)) {
    onlyKnown(c, p.plugins, `${path}.plugins`, ['score'], 'the filter pipeline is fixed; only score plugins are configurable');
    if (c.object(p.plugins.score, `${path}.plugins.score`)) checkScorePlugins(c, p.plugins.score, `${path}.plugins.score`, out.weights);
  }
  if (c.array(p.pluginConfig, `${path}.pluginConfig`)) {
    p.pluginConfig.forEach((e: unknown, i: number) => {
      const ep = `${path}.pluginConfig[${i}]`;
      if (!c.object(e, ep, true)) return;
      onlyKnown(c, e, ep, ['name', 'args'], 'an entry has name and args');
      if (e.name !== 'NodeResourcesFit') c.fail(`${ep}.name`, 'must be NodeResourcesFit (the only plugin that takes args in Skiff)', e.name);
      else if (c.object(e.args, `${ep}.args`, true)) checkFitArgs(c, e.args, `${ep}.args`, out);
    });
  }
}

/** plugins.score: disabled first (`*` = every default), then enabled with its weight (0 or none = 1). */
function checkScorePlugins(c: Checker, score: Record<string, unknown>, path: string, weights: ScoreWeights): void {
  onlyKnown(c, score, path, ['enabled', 'disabled'], 'a plugin set has enabled and disabled');
  if (c.array(score.disabled, `${path}.disabled`)) {
    score.disabled.forEach((d: unknown, i: number) => {
      const name = isObject(d) ? d.name : undefined;
      if (name === '*') for (const n of pluginNames) weights[scorePlugins[n]] = 0;
      else if (c.oneOf(name, `${path}.disabled[${i}].name`, [...pluginNames, '*'], true)) weights[scorePlugins[name as PluginName]] = 0;
    });
  }
  if (c.array(score.enabled, `${path}.enabled`)) {
    score.enabled.forEach((e: unknown, i: number) => {
      const ep = `${path}.enabled[${i}]`;
      if (!c.object(e, ep, true)) return;
      onlyKnown(c, e, ep, ['name', 'weight'], 'a plugin has name and weight');
      const named = c.oneOf(e.name, `${ep}.name`, pluginNames, true);
      const weight = e.weight === undefined || e.weight === null ? 0 : c.int(e.weight, `${ep}.weight`, 0, 100) ? e.weight : undefined;
      if (named && weight !== undefined) weights[scorePlugins[e.name as PluginName]] = weight || 1;
    });
  }
}

/** NodeResourcesFit args (validation_pluginargs.go ValidateNodeResourcesFitArgs, for what the engine scores). */
function checkFitArgs(c: Checker, args: Record<string, unknown>, path: string, out: SchedulerSettings): void {
  onlyKnown(c, args, path, ['apiVersion', 'kind', 'scoringStrategy'], 'Skiff has no extended resources to ignore');
  const sp = `${path}.scoringStrategy`;
  if (!c.object(args.scoringStrategy, sp, true)) return;
  const s = args.scoringStrategy;
  onlyKnown(c, s, sp, ['type', 'resources', 'requestedToCapacityRatio'], 'a strategy has type, resources and requestedToCapacityRatio');
  if (c.oneOf(s.type, `${sp}.type`, strategies, true)) out.resourceStrategy = s.type;
  if (c.array(s.resources, `${sp}.resources`) && s.resources.length > 0) out.resourceWeights = checkResources(c, s.resources, `${sp}.resources`);
  const rp = `${sp}.requestedToCapacityRatio`;
  if (s.type === 'RequestedToCapacityRatio') {
    if (c.object(s.requestedToCapacityRatio, rp, true) && c.array(s.requestedToCapacityRatio.shape, `${rp}.shape`, true))
      out.shape = checkShape(c, s.requestedToCapacityRatio.shape, `${rp}.shape`);
  } else if (s.requestedToCapacityRatio !== undefined) c.fail(rp, 'must be absent unless type is RequestedToCapacityRatio');
}

/** scoringStrategy.resources: names the engine scores, weights 1–100, no duplicates; unlisted resources are not scored. */
function checkResources(c: Checker, list: unknown[], path: string): ResourceWeights {
  const weights: ResourceWeights = { cpu: 0, memory: 0, ephemeralStorage: 0 };
  const seen = new Set<string>();
  list.forEach((r: unknown, i: number) => {
    const p = `${path}[${i}]`;
    if (!c.object(r, p, true)) return;
    onlyKnown(c, r, p, ['name', 'weight'], 'a resource has name and weight');
    const named = c.oneOf(r.name, `${p}.name`, Object.keys(resourceNames), true);
    if (named && seen.has(r.name as string)) c.fail(`${p}.name`, 'is listed twice', r.name);
    if (named) seen.add(r.name as string);
    if (c.int(r.weight, `${p}.weight`, 1, 100, true) && named) weights[resourceNames[r.name as keyof typeof resourceNames]] = r.weight;
  });
  return weights;
}

/** requestedToCapacityRatio.shape (validateFunctionShape): at least one point, utilization 0–100 increasing, score 0–10. */
function checkShape(c: Checker, shape: unknown[], path: string): UtilizationShapePoint[] {
  if (shape.length === 0) c.fail(path, 'must have at least one point');
  const out: UtilizationShapePoint[] = [];
  shape.forEach((pt: unknown, i: number) => {
    const p = `${path}[${i}]`;
    if (!c.object(pt, p, true)) return;
    onlyKnown(c, pt, p, ['utilization', 'score'], 'a point has utilization and score');
    const u = c.int(pt.utilization, `${p}.utilization`, 0, 100, true);
    const s = c.int(pt.score, `${p}.score`, 0, 10, true);
    if (u && out.length > 0 && out[out.length - 1].utilization >= pt.utilization) c.fail(`${p}.utilization`, 'must be greater than the previous point\'s (values sorted in increasing order)', pt.utilization);
    if (u && s) out.push({ utilization: pt.utilization, score: pt.score });
  });
  return out;
}

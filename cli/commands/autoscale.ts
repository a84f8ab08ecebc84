/** `skiff autoscale deployment/NAME --min N --max M --cpu-percent P`: creates a HorizontalPodAutoscaler, as kubectl autoscale. */
import { SkiffError, scalableKinds } from '../../protocol/index.js';
import { intFlag, namespaceOption, str, type Command } from '../args.js';
import { namespaceParam, parseTarget } from '../target.js';

/** The autoscale verb. */
export const autoscale: Command = {
  summary: 'create a HorizontalPodAutoscaler for a deployment or replica set',
  usage: `Usage:
  skiff autoscale deployment/NAME --max M [--min N] [--cpu-percent P] [--name HPA] [-n NS]

Examples:
  skiff autoscale deployment/web --min 2 --max 6 --cpu-percent 70

Flags:
  --max M                  the most replicas (required)
  --min N                  the fewest replicas (default 1)
  --cpu-percent P          target average CPU utilization, percent of the pods' requests (default 80)
  --name HPA               the autoscaler's name (default: the target's name)
  -n, --namespace NS       the namespace (default "default")

External metrics from MQTT (skiff/v1/metrics/NAME): write the HPA as a manifest (docs/workloads.md).
`,
  options: { ...namespaceOption, min: { type: 'string' }, max: { type: 'string' }, 'cpu-percent': { type: 'string' }, name: { type: 'string' } },
  async run(ctx, values, positionals) {
    const { kind, names } = parseTarget('autoscale', positionals);
    if (!(scalableKinds as readonly string[]).includes(kind.kind))
      throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `skiff autoscale: ${kind.plural} cannot be autoscaled; only ${scalableKinds.join(' and ')}`);
    if (names.length !== 1) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `skiff autoscale: exactly one ${kind.singular} name is required, e.g. "skiff autoscale ${kind.singular}/web --max 5"`);
    const max = intFlag(values, 'max');
    if (max === undefined) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', 'skiff autoscale: --max is required');
    const min = intFlag(values, 'min') ?? 1;
    const cpu = intFlag(values, 'cpu-percent') ?? 80;
    const name = str(values, 'name') ?? names[0];
    const hpa = {
      apiVersion: 'autoscaling/v2',
      kind: 'HorizontalPodAutoscaler',
      metadata: { name, ...namespaceParam(kind, values) },
      spec: {
        scaleTargetRef: { apiVersion: kind.apiVersion, kind: kind.kind, name: names[0] },
        minReplicas: min,
        maxReplicas: max,
        metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: cpu } } }],
      },
    };
    const api = await ctx.api();
    const res = await api.request<{ results: { action?: string; error?: { message: string } }[] }>('apply', { manifest: JSON.stringify(hpa) });
    const r = res.results?.[0];
    if (r?.error) throw new SkiffError('SKIFF_ERR_VALIDATION', r.error.message);
    ctx.io.stdout(`horizontalpodautoscaler.autoscaling/${name} ${r?.action === 'created' ? 'autoscaled' : r?.action ?? 'autoscaled'}\n`);
    return 0;
  },
};

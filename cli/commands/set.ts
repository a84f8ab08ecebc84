/**
 * `skiff set image|env|resources TYPE/NAME ...`, as kubectl set: changes the containers of a pod template
 * (deployments, replica sets, daemon sets, stateful sets, jobs, cron jobs) or of a pod, sent as a merge
 * patch of the containers list with the resourceVersion read as precondition.
 */
import { SkiffError, type Container, type KObject } from '../../protocol/index.js';
import { namespaceOption, str, strs, type Command, type Values } from '../args.js';
import { resourceName } from '../format/output.js';
import { ObjectPrinter, parseOutput } from '../format/printer.js';
import { patchWithRetry, targetObjects } from '../objects.js';
import type { Api, CommandContext } from '../types.js';
import { dryRunOf, dryRunSuffix } from './apply.js';

/** Where a kind keeps its pod spec. */
function podSpecPath(kind: string): string[] {
  if (kind === 'Pod') return ['spec'];
  if (kind === 'CronJob') return ['spec', 'jobTemplate', 'spec', 'template', 'spec'];
  if (['Deployment', 'ReplicaSet', 'DaemonSet', 'StatefulSet', 'Job'].includes(kind)) return ['spec', 'template', 'spec'];
  throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `${kind} has no pod template`);
}

function containersOf(o: KObject): Container[] {
  let v: any = o;
  for (const k of podSpecPath(o.kind)) v = v?.[k];
  return structuredClone(v?.containers ?? []);
}

/** A merge patch that sets the containers list at the kind's pod spec path. */
function containersPatch(kind: string, containers: Container[]): Record<string, unknown> {
  return podSpecPath(kind).reduceRight<Record<string, unknown>>((inner, k) => ({ [k]: inner }), { containers });
}

/** The containers a change applies to: `-c NAME` (or `*`/all). */
function pick(cs: Container[], name: string | undefined, o: KObject): Container[] {
  if (!name || name === '*') return cs;
  const found = cs.filter((c) => c.name === name);
  if (found.length === 0) throw new SkiffError('SKIFF_ERR_NOT_FOUND', `unable to find container named "${name}" in ${resourceName(o)}`);
  return found;
}

type Change = (cs: Container[], o: KObject) => boolean;

/** image: `NAME=IMAGE` pairs, `*=IMAGE` for every container. */
function imageChange(pairs: string[]): Change {
  if (pairs.length === 0) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', 'at least one image update is required, e.g. web=registry/web:2');
  const wanted = pairs.map((p) => {
    const eq = p.indexOf('=');
    if (eq <= 0) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `invalid image update "${p}": must be CONTAINER=IMAGE`);
    return { name: p.slice(0, eq), image: p.slice(eq + 1) };
  });
  return (cs, o) => {
    let changed = false;
    for (const w of wanted)
      for (const c of pick(cs, w.name, o))
        if (c.image !== w.image) {
          c.image = w.image;
          changed = true;
        }
    return changed;
  };
}

/** env: `KEY=VALUE` sets, `KEY-` removes, in the containers `-c` names (default all). */
function envChange(pairs: string[], container: string | undefined, from: { name: string; key: string; source: 'configMapKeyRef' | 'secretKeyRef' }[]): Change {
  const set = new Map<string, string>();
  const remove: string[] = [];
  for (const p of pairs) {
    const eq = p.indexOf('=');
    if (eq > 0) set.set(p.slice(0, eq), p.slice(eq + 1));
    else if (p.endsWith('-')) remove.push(p.slice(0, -1));
    else throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `invalid env "${p}": must be KEY=VALUE or KEY-`);
  }
  if (set.size === 0 && remove.length === 0 && from.length === 0) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', 'at least one environment variable must be provided');
  return (cs, o) => {
    let changed = false;
    for (const c of pick(cs, container, o)) {
      const before = JSON.stringify(c.env ?? []);
      let env = (c.env ?? []).filter((e) => !remove.includes(e.name));
      const put = (entry: NonNullable<Container['env']>[number]) => {
        const i = env.findIndex((e) => e.name === entry.name);
        if (i >= 0) env[i] = entry;
        else env = [...env, entry];
      };
      for (const [name, value] of set) put({ name, value });
      for (const f of from) put({ name: f.key.toUpperCase().replace(/[^A-Z0-9_]/g, '_'), valueFrom: { [f.source]: { name: f.name, key: f.key } } } as NonNullable<Container['env']>[number]);
      if (env.length) c.env = env;
      else delete c.env;
      changed ||= JSON.stringify(c.env ?? []) !== before;
    }
    return changed;
  };
}

/** resources: `--limits`/`--requests` as `cpu=200m,memory=512Mi`. */
function resourcesChange(limits: string | undefined, requests: string | undefined, container: string | undefined): Change {
  const parse = (s: string | undefined, flag: string) =>
    s === undefined
      ? undefined
      : Object.fromEntries(
          s.split(',').map((kv) => {
            const [k, v] = kv.split('=');
            if (!k || v === undefined) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `${flag}: "${kv}" must be NAME=QUANTITY, e.g. cpu=200m`);
            return [k, v];
          }),
        );
  const l = parse(limits, '--limits');
  const r = parse(requests, '--requests');
  if (!l && !r) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', 'you must specify an update to requests or limits (in the form of --requests/--limits)');
  return (cs, o) => {
    let changed = false;
    for (const c of pick(cs, container, o)) {
      const before = JSON.stringify(c.resources ?? {});
      c.resources = { ...(c.resources ?? {}), ...(l ? { limits: { ...(c.resources?.limits ?? {}), ...l } } : {}), ...(r ? { requests: { ...(c.resources?.requests ?? {}), ...r } } : {}) };
      changed ||= JSON.stringify(c.resources) !== before;
    }
    return changed;
  };
}

/** `--from=configmap/NAME|secret/NAME`: one env var per key, read from the object. */
async function fromSource(api: Api, values: Values, ns: string | undefined): Promise<{ name: string; key: string; source: 'configMapKeyRef' | 'secretKeyRef' }[]> {
  const from = str(values, 'from');
  if (!from) return [];
  const m = /^(configmaps?|cm|secrets?)\/(.+)$/.exec(from);
  if (!m) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `--from: must be configmap/NAME or secret/NAME, got "${from}"`);
  const secret = m[1].startsWith('secret');
  const o = await api.request<KObject>('get', { kind: secret ? 'Secret' : 'ConfigMap', name: m[2], ...(ns ? { namespace: ns } : {}) });
  return Object.keys((o as KObject & { data?: object }).data ?? {}).map((key) => ({ name: m[2], key, source: secret ? 'secretKeyRef' : 'configMapKeyRef' }));
}

const what = { image: 'image updated', env: 'env updated', resources: 'resource requirements updated' } as const;

/** The set verb. */
export const set: Command = {
  summary: 'change the image, env or resources of the containers of a workload or pod',
  usage: `Usage:
  skiff set image TYPE/NAME CONTAINER=IMAGE... (or *=IMAGE)
  skiff set env TYPE/NAME KEY=VALUE... KEY-... [-c CONTAINER] [--from=configmap/NAME|secret/NAME]
  skiff set env TYPE/NAME --list [-c CONTAINER]
  skiff set resources TYPE/NAME [--limits=cpu=200m,memory=512Mi] [--requests=...] [-c CONTAINER]

Flags:
  -c, --containers NAME    only this container (default: all)
  --from SOURCE            set env: one variable per key of a configmap or secret
  --list                   set env: print the environment instead of changing it
  --limits, --requests     set resources: NAME=QUANTITY pairs
  --all, -l SELECTOR       every object of the type, or those with these labels
  --dry-run MODE           client or server: show the outcome, change nothing
  -o, --output FORMAT      name, json or yaml: print the objects
  -n, --namespace NS       the namespace (default: the context's, else "default")
`,
  options: {
    ...namespaceOption,
    containers: { type: 'string', short: 'c' },
    from: { type: 'string' },
    list: { type: 'boolean' },
    limits: { type: 'string' },
    requests: { type: 'string' },
    all: { type: 'boolean' },
    selector: { type: 'string', short: 'l' },
    'dry-run': { type: 'string' },
    output: { type: 'string', short: 'o' },
  },
  async run(ctx, values, positionals) {
    const [sub, ...args] = positionals;
    if (sub !== 'image' && sub !== 'env' && sub !== 'resources') throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `skiff set: ${sub ? `unknown subcommand "${sub}"` : 'a subcommand is required'}; subcommands: image, env, resources`);
    const isChange = (a: string) => a.includes('=') || (sub === 'env' && a.endsWith('-'));
    const resources = args.filter((a) => !isChange(a));
    const pairs = args.filter(isChange);
    const api = await ctx.api();
    const { objects } = await targetObjects(api, `set ${sub}`, resources, values);
    if (sub === 'env' && values.list) return listEnv(ctx, objects, str(values, 'containers'));
    const change =
      sub === 'image'
        ? imageChange(pairs)
        : sub === 'env'
          ? envChange(pairs, str(values, 'containers'), await fromSource(api, values, objects[0]?.metadata.namespace))
          : resourcesChange(str(values, 'limits'), str(values, 'requests'), str(values, 'containers'));
    return apply(ctx, api, objects, change, values, what[sub]);
  },
};

async function apply(ctx: CommandContext, api: Api, objects: KObject[], change: Change, values: Values, done: string): Promise<number> {
  const dryRun = dryRunOf(values);
  const output = str(values, 'output');
  for (const o of objects) {
    const compute = (cur: KObject) => {
      const cs = containersOf(cur);
      return change(cs, cur) ? containersPatch(cur.kind, cs) : undefined;
    };
    const result = dryRun === 'client' ? (compute(o) ? o : undefined) : await patchWithRetry(api, o, compute, { dryRun: dryRun === 'server' });
    if (output) new ObjectPrinter((s) => ctx.io.stdout(s), parseOutput(output), o.kind).printAll([result ?? o], false, ctx.now());
    else if (result) ctx.io.stdout(`${resourceName(o)} ${done}${dryRunSuffix(dryRun)}\n`);
  }
  return 0;
}

/** `set env --list`: kubectl's listing, `# deployments/web, container web` then KEY=VALUE lines. */
function listEnv(ctx: CommandContext, objects: KObject[], container: string | undefined): number {
  for (const o of objects)
    for (const c of pick(containersOf(o), container, o)) {
      ctx.io.stdout(`# ${resourceName(o)}, container ${c.name}\n`);
      for (const e of c.env ?? []) {
        const ref = e.valueFrom?.configMapKeyRef ?? e.valueFrom?.secretKeyRef;
        ctx.io.stdout(ref ? `# ${e.name} from ${e.valueFrom?.configMapKeyRef ? 'configmap' : 'secret'} ${ref.name}, key ${ref.key}\n` : `${e.name}=${e.value ?? ''}\n`);
      }
    }
  return 0;
}

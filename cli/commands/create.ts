/**
 * `skiff create configmap|secret generic|namespace|deployment|job ...` and `skiff create -f FILE`, as
 * kubectl create: the object is built here exactly as kubectl builds it and created (an existing one is
 * an error); `--dry-run=client -o yaml` prints it for a manifest. Process workloads (no image) take their
 * command after `--`: `skiff create deployment web -- node server.js`.
 */
import { SkiffError, type ApplyResult, type Container, type CronJob, type KObject } from '../../protocol/index.js';
import { intFlag, namespaceOption, str, strs, type Command, type Values } from '../args.js';
import { resourceType } from '../format/output.js';
import { readManifests } from '../manifests.js';
import { sendObject } from '../send-object.js';
import { isUtf8, readSources } from '../sources.js';
import { defaultNamespace } from '../target.js';
import type { CommandContext } from '../types.js';

type Builder = (name: string, values: Values, command: string[], ctx: CommandContext) => Promise<KObject> | KObject;

const ns = (values: Values) => str(values, 'namespace') ?? defaultNamespace;

/** The container kubectl makes from --image (named after the image) or, for a process pod, from the command. */
export function containerFrom(name: string, values: Values, command: string[]): Container {
  const image = str(values, 'image');
  if (!image && command.length === 0) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', 'either --image or a command after "--" is required (a process pod runs the command)');
  const port = intFlag(values, 'port');
  return {
    name: image ? imageName(image) : name,
    ...(image ? { image } : {}),
    ...(command.length ? { command } : {}),
    ...(port !== undefined ? { ports: [{ containerPort: port }] } : {}),
  } as Container;
}

/** `registry:5000/team/nginx:1.25@sha256:...` → `nginx`: the container name kubectl derives. */
export function imageName(image: string): string {
  const last = image.split('/').pop()!.split('@')[0].split(':')[0];
  return last.toLowerCase().replace(/[^a-z0-9-]/g, '-').replace(/^-+|-+$/g, '') || 'container';
}

const builders: Record<string, Builder> = {
  configmap(name, values) {
    const data = readSources({ files: strs(values, 'from-file'), literals: strs(values, 'from-literal'), envFiles: strs(values, 'from-env-file') }, `ConfigMap "${name}"`);
    const text: Record<string, string> = {};
    const binary: Record<string, string> = {};
    for (const [k, v] of data) {
      if (isUtf8(v)) text[k] = v.toString('utf8');
      else binary[k] = v.toString('base64');
    }
    return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: ns(values) }, ...(Object.keys(text).length ? { data: text } : {}), ...(Object.keys(binary).length ? { binaryData: binary } : {}) };
  },
  secret(name, values) {
    const data = readSources({ files: strs(values, 'from-file'), literals: strs(values, 'from-literal'), envFiles: strs(values, 'from-env-file') }, `Secret "${name}"`);
    const encoded = Object.fromEntries([...data].map(([k, v]) => [k, v.toString('base64')]));
    return { apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: ns(values) }, type: str(values, 'type') ?? 'Opaque', ...(data.size ? { data: encoded } : {}) } as KObject;
  },
  namespace: (name) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } }),
  deployment(name, values, command) {
    const labels = { app: name };
    return {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name, namespace: ns(values), labels },
      spec: { replicas: intFlag(values, 'replicas') ?? 1, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { containers: [containerFrom(name, values, command)] } } },
    };
  },
  async job(name, values, command, ctx) {
    const from = str(values, 'from') ?? str(values, 'from-cronjob');
    if (!from) return { apiVersion: 'batch/v1', kind: 'Job', metadata: { name, namespace: ns(values) }, spec: { template: { spec: { containers: [containerFrom(name, values, command)], restartPolicy: 'Never' } } } };
    const m = /^(?:cronjob|cronjobs|cj|cronjob\.batch)\/(.+)$/.exec(from);
    if (!m) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `--from: must be cronjob/NAME, got "${from}"`);
    const cj = await (await ctx.api()).request<CronJob>('get', { kind: 'CronJob', name: m[1], namespace: ns(values) });
    const t = cj.spec.jobTemplate ?? {};
    return {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: {
        name,
        namespace: ns(values),
        labels: { ...(t.metadata?.labels ?? {}) },
        // kubectl marks a job made by hand from a cronjob, and makes the cronjob its owner.
        annotations: { ...(t.metadata?.annotations ?? {}), 'cronjob.kubernetes.io/instantiate': 'manual' },
        ownerReferences: [{ apiVersion: 'batch/v1', kind: 'CronJob', name: cj.metadata.name, uid: cj.metadata.uid!, controller: true }],
      },
      spec: structuredClone(t.spec),
    };
  },
};

const aliases: Record<string, string> = { cm: 'configmap', configmaps: 'configmap', ns: 'namespace', deploy: 'deployment', deployments: 'deployment', jobs: 'job', secrets: 'secret' };

/** The create verb. */
export const create: Command = {
  summary: 'create an object: configmap, secret generic, namespace, deployment, job (or from -f FILE)',
  usage: `Usage:
  skiff create configmap NAME [--from-literal=K=V] [--from-file=[K=]PATH] [--from-env-file=PATH]
  skiff create secret generic NAME [--from-literal=K=V] [--from-file=[K=]PATH] [--from-env-file=PATH] [--type T]
  skiff create namespace NAME
  skiff create deployment NAME (--image=IMAGE | -- COMMAND [ARGS...]) [--replicas N] [--port P]
  skiff create job NAME (--image=IMAGE | -- COMMAND [ARGS...] | --from=cronjob/NAME)
  skiff create -f FILE|DIR|-

Examples:
  skiff create configmap app --from-file=config/ --from-literal=mode=prod
  skiff create deployment web -- node server.js --dry-run=client -o yaml
  skiff create job backup-now --from=cronjob/backup

Flags:
  --dry-run MODE           client: print only; server: validated by the master, nothing stored
  -o, --output FORMAT      name, json or yaml: print the object
  -n, --namespace NS       the namespace (default: the context's, else "default")
  -f, --filename PATH      create the objects of manifests (fails for any that exists)
`,
  options: {
    ...namespaceOption,
    'from-literal': { type: 'string', multiple: true },
    'from-file': { type: 'string', multiple: true },
    'from-env-file': { type: 'string', multiple: true },
    type: { type: 'string' },
    image: { type: 'string' },
    replicas: { type: 'string' },
    port: { type: 'string' },
    from: { type: 'string' },
    'from-cronjob': { type: 'string' },
    'dry-run': { type: 'string' },
    output: { type: 'string', short: 'o' },
    filename: { type: 'string', short: 'f', multiple: true },
  },
  async run(ctx, values, positionals) {
    if (strs(values, 'filename').length) return createFromFiles(ctx, values);
    let [what, ...rest] = positionals;
    what = aliases[what] ?? what;
    if (what === 'secret') {
      if (rest[0] !== 'generic') throw new SkiffError('SKIFF_ERR_BAD_REQUEST', 'skiff create secret: only "generic" secrets, e.g. skiff create secret generic NAME --from-literal=K=V');
      rest = rest.slice(1);
    }
    const build = what !== undefined && Object.hasOwn(builders, what) ? builders[what] : undefined;
    if (!build) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `skiff create: ${what ? `unknown type "${what}"` : 'a type is required'}; types: configmap, secret generic, namespace, deployment, job (or -f FILE)`);
    const [name, ...command] = rest;
    if (!name) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `skiff create ${what}: a name is required`);
    if (command.length && what !== 'deployment' && what !== 'job') throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `skiff create ${what}: unexpected argument "${command[0]}"`);
    return sendObject(ctx, values, await build(name, values, command, ctx));
  },
};

/** `create -f`: every object of the manifests, each failing if it exists. */
async function createFromFiles(ctx: CommandContext, values: Values): Promise<number> {
  const sources = await readManifests(strs(values, 'filename'), ctx.io);
  const api = await ctx.api();
  let failed = false;
  for (const s of sources) {
    const { results } = await api.request<{ results: ApplyResult[] }>('apply', { objects: s.documents, create: true, ...(str(values, 'namespace') ? { namespace: str(values, 'namespace') } : {}) });
    for (const r of results) {
      if (r.error) {
        failed = true;
        ctx.io.stderr(`error: ${r.error.message}\n`);
      } else ctx.io.stdout(`${resourceType(r.kind)}/${r.name} created\n`);
    }
  }
  return failed ? 1 : 0;
}

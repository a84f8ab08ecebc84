/**
 * `skiff run NAME (--image=IMAGE | -- COMMAND [ARGS...])`, as kubectl run: one pod labelled run=NAME. With
 * an image, what follows `--` is the container's args (its command with --command); without one — a
 * process pod, Skiff's kind of container — it is the command. No attach (-i/-t): follow it with
 * `skiff logs -f NAME`.
 */
import { SkiffError, type Container, type KObject } from '../../protocol/index.js';
import { intFlag, namespaceOption, str, strs, type Command } from '../args.js';
import { sendObject } from '../send-object.js';
import { defaultNamespace } from '../target.js';

const policies = ['Always', 'OnFailure', 'Never'] as const;

/** key=value pairs of --labels / --annotations / --env. */
function pairs(items: string[], flag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of items.flatMap((s) => (flag === '--env' ? [s] : s.split(',')))) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `${flag}: "${item}" must be KEY=VALUE`);
    out[item.slice(0, eq)] = item.slice(eq + 1);
  }
  return out;
}

/** The run verb. */
export const run: Command = {
  summary: 'run a pod: an image, or a command on the node (a process pod)',
  usage: `Usage:
  skiff run NAME --image=IMAGE [-- ARGS...]      a container; with --command, what follows -- is its command
  skiff run NAME -- COMMAND [ARGS...]            a process pod: the command runs on the node

Examples:
  skiff run sensor-probe -- python3 probe.py --once
  skiff run web --image=nginx:1.25 --port=80 --labels=tier=front
  skiff run once --restart=Never -- sh -c 'date; uname -a'

Flags:
  --image IMAGE            the container image (omit for a process pod)
  --command                with --image: the words after -- are the command, not the args
  --env K=V                an environment variable (repeatable)
  --port P                 the port the container exposes
  -l, --labels K=V,...     labels (default run=NAME)
  --annotations K=V,...    annotations
  --restart POLICY         Always (default), OnFailure or Never
  --dry-run MODE           client: print only; server: validated by the master, nothing stored
  -o, --output FORMAT      name, json or yaml: print the pod
  -n, --namespace NS       the namespace (default: the context's, else "default")
`,
  options: {
    ...namespaceOption,
    image: { type: 'string' },
    command: { type: 'boolean' },
    env: { type: 'string', multiple: true },
    port: { type: 'string' },
    labels: { type: 'string', short: 'l', multiple: true },
    annotations: { type: 'string', multiple: true },
    restart: { type: 'string' },
    'dry-run': { type: 'string' },
    output: { type: 'string', short: 'o' },
  },
  async run(ctx, values, positionals) {
    const [name, ...words] = positionals;
    if (!name) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', 'skiff run: a name is required, e.g. "skiff run probe -- python3 probe.py"');
    const image = str(values, 'image');
    if (!image && words.length === 0) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', 'skiff run: give --image=IMAGE, or a command after "--" for a process pod');
    const restart = str(values, 'restart') ?? 'Always';
    if (!(policies as readonly string[]).includes(restart)) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `--restart: must be Always, OnFailure or Never, got "${restart}"`);
    const env = Object.entries(pairs(strs(values, 'env'), '--env')).map(([n, value]) => ({ name: n, value }));
    const port = intFlag(values, 'port');
    const asCommand = !image || values.command === true;
    const container = {
      // kubectl run names the container after the pod.
      name,
      ...(image ? { image } : {}),
      ...(words.length ? (asCommand ? { command: words } : { args: words }) : {}),
      ...(env.length ? { env } : {}),
      ...(port !== undefined ? { ports: [{ containerPort: port }] } : {}),
    } as Container;
    const labels = strs(values, 'labels').length ? pairs(strs(values, 'labels'), '--labels') : { run: name };
    const annotations = pairs(strs(values, 'annotations'), '--annotations');
    const pod: KObject = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace: str(values, 'namespace') ?? defaultNamespace, labels, ...(Object.keys(annotations).length ? { annotations } : {}) },
      spec: { containers: [container], restartPolicy: restart },
    };
    return sendObject(ctx, values, pod);
  },
};

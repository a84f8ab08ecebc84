/**
 * `skiff rollout status|history|undo|restart|pause|resume deployment/NAME` (and daemonset/NAME, statefulset/NAME; pause and
 * resume are for deployments only), as kubectl's rollout subcommands. `status` follows the object live (watch events, plus a 1 s poll in case an event
 * raced the watch's start) until the rollout is done (exit 0), its progress deadline passed
 * (exit 1) or --timeout ran out (exit 1).
 */
import { parseDuration, SkiffError, type KindInfo, type PodTemplateSpec } from '../../protocol/index.js';
import { streamDropped } from '../client.js';
import { intFlag, namespaceOption, str, type Command, type Values } from '../args.js';
import { resourceType, toYaml } from '../format/output.js';
import { Progress } from '../progress.js';
import { namespaceParam, parseTarget } from '../target.js';
import type { Api, CommandContext } from '../types.js';

const actions = ['status', 'history', 'undo', 'restart', 'pause', 'resume'] as const;
/** The kinds with rollouts. */
const rolloutKinds = ['Deployment', 'DaemonSet', 'StatefulSet'];
type Action = (typeof actions)[number];

/** What the master answers to `rollout {action: 'status'}`. */
interface StatusAnswer {
  message: string;
  done: boolean;
  failed?: boolean;
}

/** One revision of `rollout {action: 'history'}`. */
interface RevisionAnswer {
  revision: number;
  changeCause?: string;
  template?: PodTemplateSpec;
}

type Target = { kind: string; name: string; namespace?: string };

/** The rollout verb. */
export const rollout: Command = {
  summary: 'manage the rollout of a deployment or daemon set: status, history, undo, restart, pause, resume',
  usage: `Usage:
  skiff rollout status TYPE/NAME [--timeout DUR]      follow the rollout until it is done
  skiff rollout history TYPE/NAME [--revision N]      list revisions (or show one's pod template)
  skiff rollout undo TYPE/NAME [--to-revision N]      go back to the previous (or the given) revision
  skiff rollout restart TYPE/NAME                     replace every pod, one rolling step at a time
  skiff rollout pause deployment/NAME                 stop rolling; template changes wait
  skiff rollout resume deployment/NAME                roll again

TYPE is deployment, daemonset or statefulset (daemon and stateful sets keep their history in ControllerRevisions).

Flags:
  -n, --namespace NS       the namespace (default "default")
  --timeout DUR            status: give up after this long, e.g. 90s or 5m (default 0: wait until done)
  --revision N             history: show the pod template of revision N
  --to-revision N          undo: the revision to go back to (default 0: the previous one)
`,
  options: { ...namespaceOption, timeout: { type: 'string' }, revision: { type: 'string' }, 'to-revision': { type: 'string' } },
  async run(ctx, values, positionals) {
    const action = positionals[0];
    if (!action) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `skiff rollout: an action is required: ${actions.join(', ')} (see "skiff rollout --help")`);
    if (!(actions as readonly string[]).includes(action)) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `skiff rollout: unknown action "${action}"; actions: ${actions.join(', ')}`);
    const { kind, names } = parseTarget(`rollout ${action}`, positionals.slice(1));
    if (!rolloutKinds.includes(kind.kind)) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `skiff rollout ${action}: ${kind.plural} have no rollouts; only deployments, daemonsets and statefulsets do`);
    if (names.length !== 1) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `skiff rollout ${action}: exactly one name is required, e.g. "skiff rollout ${action} deployment/web"`);
    const t: Target = { kind: kind.kind, name: names[0], ...namespaceParam(kind, values) };
    const api = await ctx.api();
    return run[action as Action](ctx, api, t, kind, values);
  },
};

type Runner = (ctx: CommandContext, api: Api, t: Target, kind: KindInfo, values: Values) => Promise<number>;

/** `deployment.apps/web`, as kubectl names the object in its answers. */
const objName = (t: Target) => `${resourceType(t.kind)}/${t.name}`;

const run: Record<Action, Runner> = {
  status: (ctx, api, t, _k, values) => followStatus(ctx, api, t, timeoutOf(values)),
  async history(ctx, api, t, _k, values) {
    const revision = intFlag(values, 'revision');
    const { revisions } = await api.request<{ revisions: RevisionAnswer[] }>('rollout', { ...t, action: 'history', ...(revision ? { revision } : {}) });
    if (revision) {
      ctx.io.stdout(`${objName(t)} with revision #${revision}\nPod Template:\n${indent(toYaml(revisions[0].template ?? {}))}`);
      return 0;
    }
    if (revisions.length === 0) {
      ctx.io.stdout(`No rollout history found in ${objName(t)}\n`);
      return 0;
    }
    // kubectl's history table pads with two spaces (its tabwriter), not the three of `get`.
    const width = Math.max('REVISION'.length, ...revisions.map((r) => String(r.revision).length)) + 2;
    const rows = [['REVISION', 'CHANGE-CAUSE'], ...revisions.map((r) => [String(r.revision), r.changeCause ?? '<none>'])];
    ctx.io.stdout(`${objName(t)}\n${rows.map(([a, b]) => a.padEnd(width) + b + '\n').join('')}`);
    return 0;
  },
  async undo(ctx, api, t, _k, values) {
    const toRevision = intFlag(values, 'to-revision') ?? 0;
    const res = await api.request<{ message: string }>('rollout', { ...t, action: 'undo', toRevision });
    ctx.io.stdout(`${objName(t)} ${res.message}\n`);
    return 0;
  },
  restart: change('restart'),
  pause: change('pause'),
  resume: change('resume'),
};

/** restart, pause, resume: one request, one line: `deployment.apps/web paused`. */
function change(action: 'restart' | 'pause' | 'resume'): Runner {
  return async (ctx, api, t) => {
    const res = await api.request<{ message: string }>('rollout', { ...t, action });
    ctx.io.stdout(`${objName(t)} ${res.message}\n`);
    return 0;
  };
}

function indent(text: string): string {
  return text.replace(/^(?=.)/gm, '  ');
}

function timeoutOf(values: Values): number {
  const s = str(values, 'timeout');
  if (s === undefined) return 0;
  const ms = parseDuration(s);
  if (ms === undefined) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `--timeout: must be a duration such as 90s, 5m or 0 (no limit), got "${s}"`);
  return ms;
}

/**
 * Prints each new status line until the rollout is done. Checks run one at a time; a trigger that
 * arrives during a check runs one more check after it.
 */
async function followStatus(ctx: CommandContext, api: Api, t: Target, timeoutMs: number): Promise<number> {
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  ctx.io.signal?.addEventListener('abort', onAbort, { once: true });
  const progress = new Progress(ctx.io);
  let running: Promise<void> | undefined;
  let again = false;
  let settle!: (code: number | Error) => void;
  const outcome = new Promise<number | Error>((r) => (settle = r));
  const check = async (): Promise<void> => {
    const st = await api.request<StatusAnswer>('rollout', { ...t, action: 'status' });
    if (st.failed) return settle(new SkiffError('SKIFF_ERR_TIMEOUT', st.message));
    if (st.done) {
      progress.done(st.message);
      return settle(0);
    }
    progress.update(st.message);
  };
  const trigger = () => {
    if (running) {
      again = true;
      return;
    }
    running = check()
      .catch((err) => settle(err as Error))
      .finally(() => {
        running = undefined;
        if (again && !stop.signal.aborted) {
          again = false;
          trigger();
        }
      });
  };
  const watching = api
    .stream('watch', { kind: t.kind, namespace: t.namespace }, (res) => res.event?.object.metadata.name === t.name && trigger(), stop.signal)
    .catch((err) => streamDropped(err) || settle(err as Error)); // dropped (fell behind): the poll goes on
  const poll = setInterval(trigger, 1000);
  const timer = timeoutMs > 0 ? setTimeout(() => settle(new SkiffError('SKIFF_ERR_TIMEOUT', 'timed out waiting for the condition')), timeoutMs) : undefined;
  stop.signal.addEventListener('abort', () => settle(1), { once: true });
  trigger();
  const result = await outcome;
  progress.stop();
  clearInterval(poll);
  if (timer) clearTimeout(timer);
  ctx.io.signal?.removeEventListener('abort', onAbort);
  stop.abort();
  await watching;
  await running;
  if (result instanceof Error) throw result;
  return result;
}

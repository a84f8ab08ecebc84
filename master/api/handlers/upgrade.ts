/**
 * `upgrade {bundle, nodes? | selector? | all?, maxUnavailable?, timeoutSeconds?, trialSeconds?}` (admin access,
 * access.ts): stores the bundle (master/upgrade/store.ts) and runs a fleet upgrade (master/upgrade/rollout.ts),
 * streaming `{progress}` parts, then `{result}` (every node's last progress), then `done`.
 */
import { Checker, SkiffError, matchesRequirements, parseSelector, type ApiRequest, type Node } from '../../../protocol/index.js';
import { DEFAULT_TRIAL_SECONDS, maxBundleBytes } from '../../../protocol/upgrade.js';
import { upgradeNodes } from '../../upgrade/rollout.js';
import { badRequest } from '../params.js';
import { STREAMING, type ApiCall, type ApiContext } from '../types.js';

/** Which nodes the request names; throws SKIFF_ERR_BAD_REQUEST / NOT_FOUND naming the parameter. */
function targets(ctx: ApiContext, req: ApiRequest): string[] {
  const ways = [req.nodes !== undefined && 'nodes', req.selector !== undefined && 'selector', req.all === true && 'all'].filter(Boolean);
  if (ways.length !== 1) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `request upgrade: name the nodes one way: nodes, selector or all (got ${ways.length ? ways.join(' and ') : 'none'})`);
  const all = ctx.informers.list('Node');
  if (req.all === true) return all.map((n) => n.metadata.name).sort();
  if (typeof req.selector === 'string') {
    const reqs = parseSelector(req.selector);
    return all.filter((n) => matchesRequirements(reqs, n.metadata.labels)).map((n) => n.metadata.name).sort();
  }
  const names = req.nodes as string[];
  const missing = names.filter((name) => !all.some((n) => n.metadata.name === name));
  if (missing.length) throw new SkiffError('SKIFF_ERR_NOT_FOUND', `request upgrade: nodes: not found: ${missing.join(', ')}`);
  return [...new Set(names)];
}

/** The `upgrade` verb. */
export async function upgrade(ctx: ApiContext, req: ApiRequest, call: ApiCall): Promise<typeof STREAMING> {
  const c = new Checker('request upgrade');
  if (!(req.bundle instanceof Uint8Array)) c.fail('bundle', 'must be the bundle file as bytes');
  else if (req.bundle.length > maxBundleBytes) c.fail('bundle', `must be at most ${maxBundleBytes} bytes`, req.bundle.length);
  if (c.array(req.nodes, 'nodes')) (req.nodes as unknown[]).forEach((n, i) => c.string(n, `nodes[${i}]`, true));
  c.string(req.selector, 'selector');
  c.bool(req.all, 'all');
  c.int(req.maxUnavailable, 'maxUnavailable', 1, 1000);
  c.int(req.timeoutSeconds, 'timeoutSeconds', 10, 86_400);
  c.int(req.trialSeconds, 'trialSeconds', 5, 3600);
  badRequest(c);
  if (!ctx.bundles) throw new SkiffError('SKIFF_ERR_UNAVAILABLE', 'this master keeps no agent bundles');
  const nodes = targets(ctx, req);
  if (nodes.length === 0) throw new SkiffError('SKIFF_ERR_NOT_FOUND', `request upgrade: no node matches the selector "${String(req.selector)}"`);
  const bundle = await ctx.bundles.put(req.bundle as Uint8Array);
  ctx.log.info('fleet upgrade', { version: bundle.version, sha256: bundle.sha256, nodes: nodes.length });
  let cancelled = false;
  call.onEnd(() => (cancelled = true));
  upgradeNodes({ ...ctx }, bundle, {
    nodes,
    maxUnavailable: (req.maxUnavailable as number | undefined) ?? 1,
    timeoutMs: ((req.timeoutSeconds as number | undefined) ?? 300) * 1000,
    trialSeconds: (req.trialSeconds as number | undefined) ?? DEFAULT_TRIAL_SECONDS,
    onProgress: (progress) => call.send({ progress }),
    cancelled: () => cancelled,
  }).then(
    (result) => {
      call.send({ result: { version: bundle.version, sha256: bundle.sha256, nodes: result } });
      call.end();
    },
    (err) => call.end(err),
  );
  return STREAMING;
}

/**
 * What a node may say about itself (Kubernetes' NodeRestriction, docs/protocol.md "What a node may write"):
 * a status message is validated like any object — finite non-negative quantities, bounded lists and strings —
 * and may carry only the labels protocol/node-labels.ts allows. A refused message changes nothing.
 */
import { Checker, SkiffError, isObject, parseQuantity, type NodeStatusMessage } from '../../protocol/index.js';
import { nodeLabelRefusal } from '../../protocol/node-labels.js';

/** Largest quantity a node may report (2^62: bytes of memory or millicores, with room to sum). */
const MAX_QUANTITY = 2 ** 62;

/** Checks a quantity map (capacity, allocatable): at most 16 resources, each a finite quantity ≥ 0. */
function resources(c: Checker, v: unknown, field: string): void {
  if (!c.object(v, field)) return;
  const entries = Object.entries(v);
  if (entries.length > 16) c.fail(field, 'must list at most 16 resources', entries.length);
  for (const [k, q] of entries.slice(0, 16)) {
    c.labelKey(k, `${field}[${k}]`);
    const n = parseQuantity(q);
    if (n === undefined || !Number.isFinite(n) || n > MAX_QUANTITY) c.fail(`${field}[${k}]`, `must be a finite quantity from 0 to 2^62, such as 4, 500m or 8Gi`, q);
  }
}

/** A string of at most `max` characters. */
export function bounded(c: Checker, v: unknown, field: string, max: number, required = false): void {
  if (c.string(v, field, required) && (v as string).length > max) c.fail(field, `must be at most ${max} characters`, (v as string).length);
}

/**
 * Field paths of reports, made once: `conditions[3]`, `conditions[3].reason`. Every status report is checked field
 * by field, and building these strings per report (they only matter in an error) was ~2.5 % of a rollout's garbage
 * (docs/scale.md "Memory and GC"). Only this module's literal field names and list indexes below each list's max
 * come here — never a key a node chose — so the memo is small and fixed.
 */
const itemPaths = new Map<string, string[]>();
const keyPaths = new Map<string, Map<string, string>>();

/** `field[i]`, made once. */
function itemPath(field: string, i: number): string {
  let a = itemPaths.get(field);
  if (!a) itemPaths.set(field, (a = []));
  return (a[i] ??= `${field}[${i}]`);
}

/** `at.key` for a literal `key`, made once. */
export function keyPath(at: string, key: string): string {
  let m = keyPaths.get(at);
  if (!m) keyPaths.set(at, (m = new Map()));
  let p = m.get(key);
  if (p === undefined) m.set(key, (p = `${at}.${key}`));
  return p;
}

/** A list of at most `max` maps, each checked by `each` (`at` is the item's path: pass it to keyPath). */
export function list(c: Checker, v: unknown, field: string, max: number, each: (item: Record<string, unknown>, at: string) => void): void {
  if (!c.array(v, field)) return;
  if (v.length > max) c.fail(field, `must have at most ${max} entries`, v.length);
  for (let i = 0; i < v.length && i < max; i++) {
    const at = itemPath(field, i);
    if (c.object(v[i], at, true)) each(v[i] as Record<string, unknown>, at);
  }
}

/** Checks labels syntax, count and the NodeRestriction rule. */
export function checkNodeLabels(c: Checker, node: string, v: unknown, field: string): void {
  if (!c.labels(v, field)) return;
  const entries = Object.entries(v);
  if (entries.length > 64) c.fail(field, 'must have at most 64 labels', entries.length);
  for (const [k, val] of entries) {
    const why = nodeLabelRefusal(node, k, val);
    if (why) c.fail(`${field}[${k}]`, why, val);
  }
}

function facts(c: Checker, f: unknown): void {
  if (!c.object(f, 'facts')) return;
  for (const [k, max] of [['hostname', 253], ['arch', 32], ['os', 32], ['kernel', 256], ['osImage', 256], ['agentVersion', 64], ['nodeVersion', 64], ['boardModel', 128], ['cgroupVersion', 16]] as const) bounded(c, f[k], `facts.${k}`, max);
  c.int(f.cpus, 'facts.cpus', 0, 1_000_000);
  if (f.memoryBytes !== undefined && !(typeof f.memoryBytes === 'number' && Number.isFinite(f.memoryBytes) && f.memoryBytes >= 0 && f.memoryBytes <= MAX_QUANTITY))
    c.fail('facts.memoryBytes', 'must be a finite number of bytes ≥ 0', f.memoryBytes);
}

/** Validates a `nodes/{node}/status` message from node `node`; throws SKIFF_ERR_VALIDATION naming every broken rule. */
export function checkNodeStatus(node: string, m: unknown): NodeStatusMessage {
  const c = new Checker(`Node/${node}: status message`);
  if (!isObject(m)) throw new SkiffError('SKIFF_ERR_VALIDATION', `Node/${node}: status message: must be a map`);
  if (m.node !== undefined && m.node !== node) c.fail('node', `must be the sender's own name "${node}"`, m.node);
  c.bool(m.online, 'online');
  if (m.ts !== undefined && !(typeof m.ts === 'number' && Number.isFinite(m.ts))) c.fail('ts', 'must be a number of ms since the epoch', m.ts);
  facts(c, m.facts);
  resources(c, m.capacity, 'capacity');
  resources(c, m.allocatable, 'allocatable');
  checkNodeLabels(c, node, m.labels, 'labels');
  list(c, m.taints, 'taints', 32, (t, at) => {
    if (c.string(t.key, `${at}.key`, true)) c.labelKey(t.key as string, `${at}.key`);
    bounded(c, t.value, `${at}.value`, 63);
    c.oneOf(t.effect, `${at}.effect`, ['NoSchedule', 'PreferNoSchedule', 'NoExecute'], true);
  });
  list(c, m.addresses, 'addresses', 16, (a, at) => {
    c.oneOf(a.type, `${at}.type`, ['InternalIP', 'ExternalIP', 'Hostname', 'InternalDNS', 'ExternalDNS'], true);
    bounded(c, a.address, `${at}.address`, 253, true);
  });
  if (c.stringList(m.runtimes, 'runtimes')) {
    if (m.runtimes.length > 8) c.fail('runtimes', 'must have at most 8 entries', m.runtimes.length);
    m.runtimes.slice(0, 8).forEach((r: string, i: number) => bounded(c, r, `runtimes[${i}]`, 32));
  }
  bounded(c, m.containerRuntime, 'containerRuntime', 128);
  bounded(c, m.volumeDir, 'volumeDir', 1024);
  if (typeof m.volumeDir === 'string' && (!m.volumeDir.startsWith('/') || m.volumeDir.includes('\0'))) c.fail('volumeDir', 'must be an absolute path', m.volumeDir);
  list(c, m.conditions, 'conditions', 16, (k, at) => {
    bounded(c, k.type, `${at}.type`, 63, true);
    c.oneOf(k.status, `${at}.status`, ['True', 'False', 'Unknown'], true);
    bounded(c, k.reason, `${at}.reason`, 128);
    bounded(c, k.message, `${at}.message`, 1024);
    for (const t of ['lastHeartbeatTime', 'lastTransitionTime']) bounded(c, k[t], `${at}.${t}`, 64);
  });
  c.throwIfAny();
  return m as unknown as NodeStatusMessage;
}

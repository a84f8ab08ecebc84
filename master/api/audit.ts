/**
 * The API's log of who asked for what: changes at info, reads at debug, refusals at warn, failures
 * of the master itself at error. An apply logs each document's outcome (a document refused is a
 * refusal), whether it came as the `apply` verb or on `skiff/v1/apply`.
 */
import { SkiffError, type ApiVerb, type ApplyResult, type Logger } from '../../protocol/index.js';
import type { Identity } from '../broker/acl.js';

/** Verbs that change nothing: logged at debug. */
const reads: ReadonlySet<string> = new Set<ApiVerb>(['get', 'list', 'describe', 'watch', 'logs', 'top', 'version', 'can-i']);

/** Client-chosen text, cut short: a log line stays a line. */
function clip(v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  const s = typeof v === 'string' ? v : JSON.stringify(v) ?? String(v);
  return s.length > 200 ? s.slice(0, 200) + '…' : s;
}

/** Who asked: the identity and the MQTT client. */
export function who(identity: Identity, clientId: string): { user: string; role: string; client: string | undefined } {
  return { user: identity.name, role: identity.role, client: clip(clientId) };
}

/** One API request's outcome. `result` of an apply lists its documents. */
export function logRequest(log: Logger, by: ReturnType<typeof who>, req: Record<string, unknown>, outcome: { result?: unknown; error?: unknown }): void {
  const verb = clip(req.verb) ?? '?';
  const target = { kind: clip(req.kind), namespace: clip(req.namespace), name: clip(req.name) };
  if (outcome.error !== undefined) return logError(log, verb, { ...by, ...target }, outcome.error);
  if (verb === 'apply') return logApplied(log, by, (outcome.result as { results?: ApplyResult[] } | undefined)?.results ?? [], req.dryRun === true);
  // The pieces of an open port-forward or cp stream: its opening was logged; one line per piece would drown the log.
  if (verb === 'input') return log.debug(verb, { ...by, ref: clip(req.ref) });
  if (reads.has(verb)) log.debug(verb, { ...by, ...target });
  else log.info(verb, { ...by, ...target });
}

/** Each document of an apply: applied (info) or refused (warn, with the rule it broke). */
export function logApplied(log: Logger, by: ReturnType<typeof who>, results: ApplyResult[], dryRun = false): void {
  for (const r of results) {
    const object = clip(r.namespace ? `${r.kind}/${r.namespace}/${r.name}` : `${r.kind}/${r.name}`);
    if (r.action === 'failed') log.warn('apply refused', { ...by, object, code: r.error?.code, err: r.error?.message });
    else if (dryRun) log.debug(`apply (dry run): ${r.action}`, { ...by, object });
    else log.info(`apply: ${r.action}`, { ...by, object });
  }
}

/** `what refused` (a SkiffError: bad input, no access) at warn; anything else is the master's fault: `what failed`, error, with its stack. */
export function logError(log: Logger, what: string, fields: Record<string, unknown>, err: unknown): void {
  if (err instanceof SkiffError) log.warn(`${what} refused`, { ...fields, code: err.code, err: err.message });
  else log.error(`${what} failed`, { ...fields, err });
}

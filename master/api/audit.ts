/**
 * The API's record of who asked for what, in one place for both channels (the request/response API and the
 * `skiff/v1/apply` topic):
 *   - the master's log: changes at info, reads at debug, refusals at warn, failures of the master itself at error;
 *   - the audit log (DATA/audit.log, audit-file.ts): one JSON line for every write — who (user, role, access,
 *     the token's namespace), from which client (MQTT client id and address), what (verb, kind, namespace/name),
 *     the outcome (created, configured, unchanged, deleted, ok, refused, failed) with the error code — and for every
 *     refused request, reads included. Kubernetes' audit policy at level Metadata: never a request or response
 *     body, so no Secret value or manifest text can reach it.
 * An apply logs each document's outcome (a document refused is a refusal).
 */
import { SkiffError, type ApiVerb, type ApplyResult, type Logger } from '../../protocol/index.js';
import type { Identity } from '../broker/acl.js';
import type { AuditSink } from './audit-file.js';

/** Verbs that change nothing (and the pieces of an open stream, `input`): logged at debug, audited only when refused. */
const reads: ReadonlySet<string> = new Set<ApiVerb>(['get', 'list', 'describe', 'watch', 'logs', 'top', 'version', 'can-i', 'cancel', 'input']);
/** Actions of the rollout verb that only read. */
const readActions: ReadonlySet<unknown> = new Set(['status', 'history']);

/** Client-chosen text, cut short: a log line stays a line. */
function clip(v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  const s = typeof v === 'string' ? v : JSON.stringify(v) ?? String(v);
  return s.length > 200 ? s.slice(0, 200) + '…' : s;
}

/** Who asked: the identity, the MQTT client and its address. */
export interface By {
  user: string;
  role: string;
  access?: string;
  /** The namespace a user token is confined to. */
  tokenNamespace?: string;
  client: string | undefined;
  address?: string;
}

/** Who asked, from the identity and the MQTT client. */
export function who(identity: Identity, clientId: string, address?: string): By {
  const scope = identity.role === 'user' ? { access: identity.access, ...(identity.namespace ? { tokenNamespace: identity.namespace } : {}) } : {};
  return { user: identity.name, role: identity.role, ...scope, client: clip(clientId), ...(address ? { address } : {}) };
}

/** A write (or a refusal) as one audit record. */
interface AuditRecord {
  via: 'api' | 'apply-topic';
  verb: string;
  action?: string;
  kind?: string;
  namespace?: string;
  name?: string;
  outcome: string;
  code?: string;
  message?: string;
  podSecurity?: string[];
}

/** The log and the audit file of the API. */
export class Audit {
  constructor(
    private readonly log: Logger,
    private readonly sink?: AuditSink,
  ) {}

  /** One API request's outcome. `result` of an apply lists its documents. */
  request(by: By, req: Record<string, unknown>, outcome: { result?: unknown; error?: unknown }): void {
    const verb = clip(req.verb) ?? '?';
    const target = { kind: clip(req.kind), namespace: clip(req.namespace), name: clip(req.name) };
    if (outcome.error !== undefined) return this.error(verb, by, target, outcome.error, 'api', clip(req.action));
    if (verb === 'apply') return this.applied(by, (outcome.result as { results?: AuditedResult[] } | undefined)?.results ?? [], 'api', req.dryRun === true);
    // The pieces of an open port-forward or cp stream: its opening was logged and audited; one line per piece would drown both.
    if (verb === 'input') return this.log.debug(verb, { ...by, ref: clip(req.ref) });
    const isRead = reads.has(verb) || (verb === 'rollout' && readActions.has(req.action));
    if (isRead) return this.log.debug(verb, { ...by, ...target });
    this.log.info(verb, { ...by, ...target });
    this.record(by, { via: 'api', verb, action: clip(req.action), ...target, outcome: verb === 'delete' ? 'deleted' : 'ok' });
  }

  /** Each document of an apply: applied (info) or refused (warn, with the rule it broke). A dry run changes nothing: debug, not audited. */
  applied(by: By, results: AuditedResult[], via: 'api' | 'apply-topic', dryRun = false): void {
    for (const r of results) {
      const object = clip(r.namespace ? `${r.kind}/${r.namespace}/${r.name}` : `${r.kind}/${r.name}`);
      if (r.action === 'failed') this.log.warn('apply refused', { ...by, object, code: r.error?.code, err: r.error?.message });
      else if (dryRun) this.log.debug(`apply (dry run): ${r.action}`, { ...by, object });
      else this.log.info(`apply: ${r.action}`, { ...by, object });
      if (dryRun && r.action !== 'failed') continue;
      this.record(by, {
        via,
        verb: 'apply',
        kind: clip(r.kind),
        namespace: clip(r.namespace),
        name: clip(r.name),
        outcome: r.action === 'failed' ? (r.error?.code === 'SKIFF_ERR_FORBIDDEN' ? 'refused' : 'failed') : r.action,
        ...(r.error ? { code: r.error.code, message: r.error.message } : {}),
        ...(r.auditNotes?.length ? { podSecurity: r.auditNotes } : {}),
      });
    }
  }

  /**
   * `what refused` (a SkiffError: bad input, no access) at warn; anything else is the master's fault: `what failed`,
   * error, with its stack. Audited when it was a write, or a refusal of any verb.
   */
  error(verb: string, by: By, target: { kind?: string; namespace?: string; name?: string }, err: unknown, via: 'api' | 'apply-topic' = 'api', action?: string): void {
    if (err instanceof SkiffError) this.log.warn(`${verb} refused`, { ...by, ...target, code: err.code, err: err.message });
    else this.log.error(`${verb} failed`, { ...by, ...target, err });
    const forbidden = err instanceof SkiffError && err.code === 'SKIFF_ERR_FORBIDDEN';
    if (reads.has(verb) && !forbidden) return;
    const code = err instanceof SkiffError ? err.code : 'SKIFF_ERR_INTERNAL';
    const message = err instanceof SkiffError ? err.message : 'internal error (see the master log)';
    this.record(by, { via, verb, action, ...target, outcome: forbidden ? 'refused' : 'failed', code, message: clip(message) });
  }

  private record(by: By, r: AuditRecord): void {
    if (!this.sink) return;
    const entry: Record<string, unknown> = { ts: new Date().toISOString(), ...by };
    for (const [k, v] of Object.entries(r)) if (v !== undefined) entry[k] = v;
    this.sink.write(entry);
  }
}

/** An apply result with what the audit log alone is told (Pod Security `audit` mode violations). */
export type AuditedResult = ApplyResult & { auditNotes?: string[] };

/** The apply results as clients see them: without the audit-only notes. */
export function forClients(results: AuditedResult[]): ApplyResult[] {
  return results.map(({ auditNotes: _a, ...r }) => r);
}

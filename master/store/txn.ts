/**
 * The checks of a transaction's ops, shared by both stores, and its bounds: etcd refuses a Txn with more
 * than --max-txn-ops (128) compares or requests, or a request over --max-request-bytes (1.5 MiB); each op
 * may need two compares (exists, modRevision) plus the root's fence, so 60 ops, and the values at most
 * 1.4 MiB, fit etcd's defaults. SQLite keeps the same bounds so the two stores answer alike.
 */
import { SkiffError, type ErrorCode } from '../../protocol/errors.js';
import { checkKey, checkRevision, toJson } from './keys.js';
import type { TxnOp } from './types.js';

/** The most ops one transaction may hold. */
export const maxTxnOps = 60;
/** The most bytes of JSON values one transaction may hold: 1.4 MiB. */
export const maxTxnBytes = Math.floor(1.4 * 1024 * 1024);

/** An op after its checks: the value as JSON text (null for a delete). */
export interface CheckedOp {
  op: TxnOp['op'];
  key: string;
  text: string | null;
  expected?: number;
}

/** Checks a transaction's ops (shape, keys, revisions, values, bounds); throws SKIFF_ERR_BAD_REQUEST naming the op. */
export function checkTxn(ops: readonly TxnOp[]): CheckedOp[] {
  if (!Array.isArray(ops)) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', 'store: txn: ops must be a list');
  if (ops.length === 0) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', 'store: txn: must have at least one op');
  if (ops.length > maxTxnOps) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `store: txn: must have at most ${maxTxnOps} ops, got ${ops.length}`);
  const keys = new Set<string>();
  let bytes = 0;
  return ops.map((o, i) => {
    const at = `store: txn ops[${i}]`;
    if (o === null || typeof o !== 'object' || !['create', 'update', 'delete'].includes(o.op))
      throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `${at}: op must be create, update or delete`);
    checkKey(o.key, `txn ops[${i}].key`);
    if (keys.has(o.key)) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `${at}: key ${o.key} appears twice (one op per key)`);
    keys.add(o.key);
    const expected = o.op === 'create' ? undefined : o.expectedModRevision;
    checkRevision(expected, `txn ops[${i}].expectedModRevision`);
    const text = o.op === 'delete' ? null : toJson(o.key, o.value);
    bytes += text === null ? 0 : Buffer.byteLength(text);
    if (bytes > maxTxnBytes) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `store: txn: values must total at most ${maxTxnBytes} bytes (etcd's request limit)`);
    return { op: o.op, key: o.key, text, ...(expected !== undefined ? { expected } : {}) };
  });
}

/** The error of op `i` that could not apply: the single-key op's code and wording, the op's index in details. */
export function txnOpError(i: number, code: ErrorCode, why: string): SkiffError {
  return new SkiffError(code, `store: txn ops[${i}]: ${why}`, [{ field: `ops[${i}]`, rule: why }]);
}

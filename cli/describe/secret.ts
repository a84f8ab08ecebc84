/**
 * `skiff describe secret`: kubectl's layout — type and each key with its size in bytes, never a value
 * (`password:  12 bytes`). Sizes come from the values when the answer has them (edit and admin access) or from
 * `dataBytes` when the master left the values out (view access, master/api/redact.ts).
 */
import type { KObject } from '../../protocol/index.js';
import type { DescribeWriter } from './writer.js';

/** Each key of a Secret with its decoded size in bytes, in key order. */
export function secretKeySizes(o: KObject): [string, number][] {
  const sizes = new Map<string, number>();
  const data = (o as { data?: Record<string, unknown> }).data ?? {};
  for (const [k, v] of Object.entries(data)) sizes.set(k, typeof v === 'string' ? Buffer.from(v, 'base64').length : 0);
  for (const [k, v] of Object.entries((o as { dataBytes?: Record<string, unknown> }).dataBytes ?? {})) if (!sizes.has(k) && typeof v === 'number') sizes.set(k, v);
  return [...sizes].sort(([a], [b]) => a.localeCompare(b));
}

/** Writes the Secret's fields and its keys with byte counts. */
export function describeSecret(w: DescribeWriter, o: KObject): void {
  w.field(0, 'Name', o.metadata.name).field(0, 'Namespace', o.metadata.namespace);
  w.map(0, 'Labels', o.metadata.labels).map(0, 'Annotations', o.metadata.annotations);
  w.text(0, '');
  w.field(0, 'Type', String((o as { type?: string }).type ?? 'Opaque'));
  w.text(0, '');
  w.text(0, 'Data');
  w.text(0, '====');
  for (const [k, n] of secretKeySizes(o)) w.field(0, k, `${n} bytes`);
}

/**
 * The columns of `skiff get events`, as kubectl prints Events: LAST SEEN (with `(x3 over 10m)` for
 * repeats), TYPE, REASON, OBJECT (`pod/web-1`), MESSAGE; `-o wide` adds SUBOBJECT (the container's
 * fieldPath), SOURCE, FIRST SEEN, COUNT and NAME. The master lists them sorted by lastTimestamp.
 */
import { age, involvedObjectName, type KObject } from '../../protocol/index.js';

/** LAST SEEN: `5m`, or `5m (x3 over 10m)` when the event repeated. */
export function lastSeen(o: KObject, now: number): string {
  const last = (o.lastTimestamp ?? o.metadata.creationTimestamp) as string | undefined;
  const count = typeof o.count === 'number' ? o.count : 1;
  return count > 1 ? `${age(last, now)} (x${count} over ${age(o.firstTimestamp as string | undefined, now)})` : age(last, now);
}

function source(o: KObject): string {
  const s = (o.source ?? {}) as { component?: string; host?: string };
  return [s.component, s.host].filter(Boolean).join(', ') || '<none>';
}

const ref = (o: KObject) => (o.involvedObject ?? { kind: '', name: '' }) as { kind: string; name: string; fieldPath?: string };

/** The Event printer. */
export const eventPrinters = {
  Event: {
    headers: ['LAST SEEN', 'TYPE', 'REASON', 'OBJECT', 'MESSAGE'],
    row: (o: KObject, now: number) => [lastSeen(o, now), String(o.type ?? ''), String(o.reason ?? ''), involvedObjectName(ref(o)), String(o.message ?? '').replace(/\s*\n\s*/g, ' ')],
    wideHeaders: ['SUBOBJECT', 'SOURCE', 'FIRST SEEN', 'COUNT', 'NAME'],
    wideRow: (o: KObject, now: number) => [ref(o).fieldPath ?? '', source(o), age(o.firstTimestamp as string | undefined, now), String(o.count ?? 1), o.metadata.name],
  },
};

/** The shape of a `skiff get` printer: the columns of one kind, typed as that kind. */
import type { KindMap, KindName, KObject } from '../../protocol/index.js';

/** Columns of one kind: the normal set, and the extra columns `-o wide` appends. */
export interface Printer<T extends KObject = KObject> {
  headers: string[];
  row(o: T, now: number): string[];
  wideHeaders?: string[];
  wideRow?(o: T, now: number): string[];
}

/** Printers by kind, each typed for its kind's objects. */
export type Printers = { [K in KindName]?: Printer<KindMap[K]> };

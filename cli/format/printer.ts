/**
 * The `-o` formats of get (and of the verbs that print objects: create, run, expose, set, label, ...):
 * the kubectl table (and `wide`, `--show-labels`, `-L KEY`, `--no-headers`), `json`, `yaml`, `name`,
 * `jsonpath=`/`jsonpath-file=` and `custom-columns=`/`custom-columns-file=`. A printer keeps its table
 * widths, so rows printed later (`get -w`) stay aligned.
 */
import { readFileSync } from 'node:fs';
import { SkiffError, type KObject } from '../../protocol/index.js';
import { columnsFor } from './columns.js';
import { customRow, parseCustomColumns, readCustomColumnsFile, type CustomColumn } from './custom-columns.js';
import { executeJsonPath } from './jsonpath-eval.js';
import { parseJsonPath, type JsonPath } from './jsonpath.js';
import { asList, resourceName, toJson, toYaml, withTypeMeta } from './output.js';
import { Table } from './table.js';

/** A parsed `-o` value. */
export type OutputSpec =
  | { kind: 'table'; wide: boolean }
  | { kind: 'json' | 'yaml' | 'name' }
  | { kind: 'jsonpath'; template: JsonPath }
  | { kind: 'custom-columns'; columns: CustomColumn[] };

const formats = 'custom-columns, custom-columns-file, json, jsonpath, jsonpath-file, name, wide, yaml';

/** Parses `-o`; unknown formats get kubectl's message. */
export function parseOutput(o: string | undefined): OutputSpec {
  if (o === undefined || o === '') return { kind: 'table', wide: false };
  if (o === 'wide') return { kind: 'table', wide: true };
  if (o === 'json' || o === 'yaml' || o === 'name') return { kind: o };
  const eq = o.indexOf('=');
  const [fmt, arg] = eq < 0 ? [o, ''] : [o.slice(0, eq), o.slice(eq + 1)];
  switch (fmt) {
    case 'jsonpath':
      if (!arg) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', 'template format specified but no template given');
      return { kind: 'jsonpath', template: parseJsonPath(arg) };
    case 'jsonpath-file':
      return { kind: 'jsonpath', template: parseJsonPath(readTemplate(arg)) };
    case 'custom-columns':
      return { kind: 'custom-columns', columns: parseCustomColumns(arg) };
    case 'custom-columns-file':
      return { kind: 'custom-columns', columns: readCustomColumnsFile(arg) };
    default:
      throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `unable to match a printer suitable for the output format "${o}", allowed formats are: ${formats}`);
  }
}

function readTemplate(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `jsonpath-file ${file}: ${(err as Error).message}`);
  }
}

/** How the table looks. */
export interface TableLook {
  withNamespace?: boolean;
  /** `--show-labels`: a LABELS column. */
  showLabels?: boolean;
  /** `-L KEY`: a column per label key. */
  labelColumns?: string[];
  noHeaders?: boolean;
  /** Names as `kind.group/name` (several kinds in one listing, as kubectl). */
  withKind?: boolean;
}

/** Prints objects of one kind in one output format. */
export class ObjectPrinter {
  private table?: Table;
  private readonly columns;

  constructor(
    private readonly write: (s: string) => void,
    private readonly spec: OutputSpec,
    private readonly kind: string,
    private readonly look: TableLook = {},
  ) {
    this.columns = columnsFor(kind, { wide: spec.kind === 'table' && spec.wide, withNamespace: look.withNamespace });
  }

  /** Prints a result set; `asList` wraps json/yaml/jsonpath input in a List even for one item. */
  printAll(objects: KObject[], asAList: boolean, now: number): void {
    const items = objects.map((o) => withTypeMeta(o, this.kind));
    switch (this.spec.kind) {
      case 'json':
      case 'yaml': {
        if (items.length === 0 && !asAList) return;
        const v = asAList ? asList(items) : items[0];
        this.write(this.spec.kind === 'json' ? toJson(v) : toYaml(v));
        return;
      }
      case 'jsonpath':
        if (items.length === 0 && !asAList) return;
        this.write(executeJsonPath(this.spec.template, asAList ? asList(items) : items[0]));
        return;
      default:
        this.rows(items, now);
    }
  }

  /** Prints one object as it changes (a watch event). */
  printOne(o: KObject, now: number): void {
    const item = withTypeMeta(o, this.kind);
    if (this.spec.kind === 'json') this.write(toJson(item));
    else if (this.spec.kind === 'yaml') this.write('---\n' + toYaml(item));
    else if (this.spec.kind === 'jsonpath') this.write(executeJsonPath(this.spec.template, item));
    else this.rows([item], now);
  }

  private rows(items: KObject[], now: number): void {
    if (this.spec.kind === 'name') {
      for (const o of items) this.write(resourceName(o) + '\n');
      return;
    }
    if (items.length === 0) return;
    const first = !this.table;
    const { headers, row } = this.layout();
    this.table ??= new Table(headers);
    this.write(this.table.render(items.map((o) => row(o, now)), first && !this.look.noHeaders));
  }

  /** Headers and cells: the kind's columns (or the custom ones), then -L columns, then LABELS. */
  private layout(): { headers: string[]; row(o: KObject, now: number): string[] } {
    const keys = this.look.labelColumns ?? [];
    const extraHeaders = [...keys.map((k) => k.split('/').pop()!.toUpperCase()), ...(this.look.showLabels ? ['LABELS'] : [])];
    const extra = (o: KObject) => [...keys.map((k) => o.metadata.labels?.[k] ?? ''), ...(this.look.showLabels ? [labelsOf(o)] : [])];
    if (this.spec.kind === 'custom-columns') {
      const cols = this.spec.columns;
      return { headers: cols.map((c) => c.header), row: (o) => customRow(cols, o) };
    }
    const nameAt = this.look.withNamespace ? 1 : 0;
    return {
      headers: [...this.columns.headers, ...extraHeaders],
      row: (o, now) => {
        const cells = this.columns.row(o, now);
        // kind/name, keeping what a printer adds after the name (a StorageClass's " (default)").
        if (this.look.withKind) cells[nameAt] = resourceName(o) + (cells[nameAt]!.startsWith(o.metadata.name) ? cells[nameAt]!.slice(o.metadata.name.length) : '');
        return [...cells, ...extra(o)];
      },
    };
  }
}

/** LABELS: `k=v` pairs sorted by key, comma-separated; `<none>` without labels. */
export function labelsOf(o: KObject): string {
  const l = Object.entries(o.metadata.labels ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return l.length ? l.map(([k, v]) => `${k}=${v}`).join(',') : '<none>';
}

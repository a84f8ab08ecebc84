/**
 * The layout of `skiff describe`, as kubectl prints it: `Key:  value` lines whose values align within
 * each block of one indentation (kubectl runs a tabwriter with 2 spaces of padding), nested sections,
 * and small tables.
 */
import type { StringMap } from '../../protocol/index.js';
import { age } from '../format/age.js';

type Line = { indent: number; key?: string; value: string };

/** Collects describe lines and renders them aligned. */
export class DescribeWriter {
  private lines: Line[] = [];

  /** `Key:  value` at an indentation level (2 spaces a level). */
  field(indent: number, key: string, value: string | number | undefined): this {
    const v = value === undefined || value === '' ? '<none>' : String(value);
    this.lines.push({ indent, key, value: v });
    return this;
  }

  /** A section heading `Key:` with nothing after it. */
  section(indent: number, key: string): this {
    this.lines.push({ indent, key, value: '' });
    return this;
  }

  /** A map (labels, annotations) as `Key: a=b` then aligned continuation lines; `<none>` when empty. */
  map(indent: number, key: string, m: StringMap | undefined): this {
    const entries = Object.entries(m ?? {}).sort(([a], [b]) => a.localeCompare(b));
    if (entries.length === 0) return this.field(indent, key, '<none>');
    entries.forEach(([k, v], i) => this.lines.push({ indent, key: i === 0 ? key : '', value: `${k}=${v}` }));
    return this;
  }

  /** A list of values (taints, command) as `Key: first` then aligned continuation lines. */
  list(indent: number, key: string, values: string[]): this {
    if (values.length === 0) return this.field(indent, key, '<none>');
    values.forEach((v, i) => this.lines.push({ indent, key: i === 0 ? key : '', value: v }));
    return this;
  }

  /** A table with a dashed underline, as in Events and Conditions; `Key:  <none>` when it has no rows. */
  table(indent: number, key: string, headers: string[], rows: string[][]): this {
    // A key that carries its own punctuation (`Non-terminated Pods:  (2 in total)`) is printed as is.
    const raw = key.includes(':');
    if (rows.length === 0) return raw ? this.text(indent, key) : this.field(indent, key, '<none>');
    if (raw) this.text(indent, key);
    else this.section(indent, key);
    // kubectl underlines with at least four dashes (`Age` gets `----`).
    const all = [headers, headers.map((h) => '-'.repeat(Math.max(4, h.length))), ...rows];
    const widths = headers.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
    const pad = ' '.repeat((indent + 1) * 2);
    for (const r of all) this.lines.push({ indent: -1, value: pad + r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] + 2))).join('').trimEnd() });
    return this;
  }

  /** A raw line at an indentation level. */
  text(indent: number, value: string): this {
    this.lines.push({ indent: -1, value: ' '.repeat(indent * 2) + value });
    return this;
  }

  /**
   * The rendered text. Like kubectl's tabwriter, values line up across each run of consecutive
   * `Key: value` lines, whatever their indentation; a heading or table line ends the run.
   */
  render(): string {
    const out: string[] = [];
    const inRun = (l: Line) => l.key !== undefined && l.value !== '';
    let i = 0;
    while (i < this.lines.length) {
      const l = this.lines[i];
      if (!inRun(l)) {
        out.push(l.key === undefined ? l.value : `${' '.repeat(l.indent * 2)}${l.key}:`);
        i++;
        continue;
      }
      let j = i;
      while (j < this.lines.length && inRun(this.lines[j])) j++;
      const block = this.lines.slice(i, j).map((b) => ({ head: ' '.repeat(b.indent * 2) + (b.key ? b.key + ':' : ''), value: b.value }));
      const width = Math.max(...block.map((b) => b.head.length)) + 2;
      for (const b of block) out.push(b.head.padEnd(width) + b.value);
      i = j;
    }
    return out.map((l) => l + '\n').join('');
  }
}

/** RFC 1123 with a numeric zone, as kubectl prints times: `Mon, 02 Jan 2026 15:04:05 +0000`. */
export function formatTime(t: string | number | undefined): string | undefined {
  if (t === undefined || t === '') return undefined;
  const d = new Date(t);
  return Number.isNaN(d.getTime()) ? String(t) : d.toUTCString().replace('GMT', '+0000');
}

/** One event, in either shape the master may send: a Kubernetes Event or a Skiff EventMessage. */
export interface AnyEvent {
  type?: string;
  reason?: string;
  message?: string;
  count?: number;
  ts?: number;
  firstTimestamp?: string;
  lastTimestamp?: string;
  eventTime?: string;
  source?: string | { component?: string; host?: string };
  reportingController?: string;
}

/** The Events table of describe: Type Reason Age From Message, `5m (x3 over 10m)` for repeats. */
export function eventsTable(w: DescribeWriter, events: AnyEvent[] | undefined, now: number): DescribeWriter {
  const rows = (events ?? []).map((e) => {
    const last = e.lastTimestamp ?? e.eventTime ?? e.ts;
    const first = e.firstTimestamp ?? last;
    const when = e.count && e.count > 1 ? `${age(last, now)} (x${e.count} over ${age(first, now)})` : age(last, now);
    const from = typeof e.source === 'string' ? e.source : (e.source?.component ?? e.reportingController ?? '');
    return [e.type ?? 'Normal', e.reason ?? '', when, from, e.message ?? ''];
  });
  return w.table(0, 'Events', ['Type', 'Reason', 'Age', 'From', 'Message'], rows);
}

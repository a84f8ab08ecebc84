/** Table tests of the output parsers: kubectl's JSONPath dialect, custom columns, --sort-by, -o. */
import { describe, expect, it } from 'vitest';
import { customRow, parseCustomColumns } from '../../cli/format/custom-columns.js';
import { executeJsonPath } from '../../cli/format/jsonpath-eval.js';
import { parseJsonPath } from '../../cli/format/jsonpath.js';
import { parseOutput } from '../../cli/format/printer.js';
import { sortByPath } from '../../cli/format/sort.js';
import type { KObject } from '../../protocol/index.js';

const pod = (name: string, o: { phase?: string; node?: string; ready?: string; cpu?: string; restarts?: number; labels?: Record<string, string> } = {}): KObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: 'default', labels: o.labels ?? { app: 'web' } },
  spec: { nodeName: o.node, containers: [{ name: 'c', command: ['x'], resources: o.cpu ? { requests: { cpu: o.cpu } } : undefined }] },
  status: { phase: o.phase ?? 'Running', conditions: [{ type: 'Ready', status: o.ready ?? 'True' }], containerStatuses: [{ name: 'c', restartCount: o.restarts ?? 0 }] },
});
const list = { apiVersion: 'v1', kind: 'List', items: [pod('a', { node: 'pi-1', restarts: 2 }), pod('b', { phase: 'Pending', ready: 'False', labels: { app: 'db', tier: 'x' } })] };

describe('JSONPath (kubectl dialect)', () => {
  it.each([
    ['{.items[*].metadata.name}', 'a b'],
    ['{.items[0].metadata.name}', 'a'],
    ['{.items[-1].metadata.name}', 'b'],
    ['{.items[0:1].metadata.name}', 'a'],
    ['{.items[1:].metadata.name}', 'b'],
    ['{.kind}', 'List'],
    ['{$.kind}', 'List'],
    ['kind={.kind}!', 'kind=List!'],
    ['{.items[0].metadata.labels}', '{"app":"web"}'],
    ['{.items[0].spec.containers[0].command}', '["x"]'],
    ['{.items[*].status.containerStatuses[0].restartCount}', '2 0'],
    ['{range .items[*]}{.metadata.name}{"\\t"}{.status.phase}{"\\n"}{end}', 'a\tRunning\nb\tPending\n'],
    ['{range .items}{.metadata.name},{end}', 'a,b,'],
    ['{.items[?(@.status.phase=="Running")].metadata.name}', 'a'],
    ["{.items[?(@.status.phase!='Running')].metadata.name}", 'b'],
    ['{.items[?(@.status.containerStatuses[0].restartCount > 1)].metadata.name}', 'a'],
    ['{.items[?(@.spec.nodeName)].metadata.name}', 'a'],
    ['{.items[*].status.conditions[?(@.type=="Ready")].status}', 'True False'],
    ['{..name}', 'a c c b c c'],
    ['{.items[0].metadata.*}', 'a default {"app":"web"}'],
    ["{.items[1].metadata.labels['app','tier']}", 'db x'],
    ['{.items[*].metadata.name,.kind}', 'a b List'],
    ['{.missing.field}', ''],
    ['{"quoted \\"text\\""}', 'quoted "text"'],
  ])('%s → %j', (template, out) => {
    expect(executeJsonPath(parseJsonPath(template), list)).toBe(out);
  });

  it.each([
    ['{.items[}', /error parsing jsonpath \{\.items\[\}, /],
    ['{range .items[*]}{.a}', /unclosed range: missing \{end\}/],
    ['{end}', /not in range, nothing to end/],
    ['{.a', /unclosed action/],
    ['{.items[?(@.a=="x")}', /unclosed/],
    ['{.items[x]}', /invalid array index x/],
  ])('refuses %s', (template, message) => {
    expect(() => parseJsonPath(template)).toThrow(message);
  });
});

describe('custom columns', () => {
  it('parses NAME:PATH pairs (relaxed paths), prints <none> for nothing and joins several results', () => {
    const cols = parseCustomColumns('NAME:.metadata.name,NODE:spec.nodeName,READY:{.status.conditions[?(@.type=="Ready")].status},C:.spec.containers[*].name');
    expect(cols.map((c) => c.header)).toEqual(['NAME', 'NODE', 'READY', 'C']);
    expect(customRow(cols, list.items[1])).toEqual(['b', '<none>', 'False', 'c']);
    expect(customRow(cols, list.items[0])).toEqual(['a', 'pi-1', 'True', 'c']);
  });

  it.each([['', /no custom columns given/], ['NAME', /expected <header>:<json-path-expr>/], ['N:.a[', /error parsing jsonpath/]])('refuses %j', (spec, message) => {
    expect(() => parseCustomColumns(spec)).toThrow(message);
  });
});

describe('--sort-by', () => {
  const items = [pod('c', { cpu: '1', restarts: 10 }), pod('a', { cpu: '500m', restarts: 9 }), pod('b', { restarts: 1 })];
  it.each([
    ['.metadata.name', ['a', 'b', 'c']],
    ['{.metadata.name}', ['a', 'b', 'c']],
    ['.status.containerStatuses[0].restartCount', ['b', 'a', 'c']],
    ['.spec.containers[0].resources.requests.cpu', ['b', 'a', 'c']],
  ])('%s', (path, names) => {
    expect(sortByPath(items, path).map((o) => o.metadata.name)).toEqual(names);
  });
});

describe('-o', () => {
  it.each([
    [undefined, 'table'],
    ['wide', 'table'],
    ['json', 'json'],
    ['yaml', 'yaml'],
    ['name', 'name'],
    ['jsonpath={.kind}', 'jsonpath'],
    ['custom-columns=N:.metadata.name', 'custom-columns'],
  ])('%s', (o, kind) => expect(parseOutput(o).kind).toBe(kind));

  it('names the formats kubectl names for an unknown one', () => {
    expect(() => parseOutput('xml')).toThrow('unable to match a printer suitable for the output format "xml", allowed formats are: custom-columns, custom-columns-file, json, jsonpath, jsonpath-file, name, wide, yaml');
  });
});

/** The one text line (protocol/log.ts), the master's pino logger in both formats, and "no console in master/". */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createLogger, type LogFormat } from '../../master/log.js';
import { SkiffError, formatLogLine, withFields, type LogLevel } from '../../protocol/index.js';
import { root } from '../helpers/procs.js';

const T = '2026-11-27T12:00:00.000Z';

describe('formatLogLine', () => {
  it.each([
    ['plain', 'info', 'started', {}, `${T} info started`],
    ['component prefix', 'warn', 'sync failed', { component: 'replicaset', key: 'default/web' }, `${T} warn replicaset: sync failed key=default/web`],
    ['spaces quoted', 'info', 'x', { reason: 'two words' }, `${T} info x reason="two words"`],
    ['equals and quotes quoted', 'info', 'x', { q: 'a="b"' }, `${T} info x q="a=\\"b\\""`],
    ['empty string quoted', 'info', 'x', { e: '' }, `${T} info x e=""`],
    ['numbers and booleans bare', 'info', 'x', { n: 3, b: true }, `${T} info x n=3 b=true`],
    ['undefined left out', 'info', 'x', { a: undefined, b: 1 }, `${T} info x b=1`],
    ['an Error prints its message', 'error', 'boom', { err: new Error('disk full') }, `${T} error boom err="disk full"`],
    ['a serialised error prints its message', 'error', 'boom', { err: { type: 'Error', message: 'gone', stack: '...' } }, `${T} error boom err=gone`],
    ['objects as JSON', 'info', 'x', { o: { a: 1 } }, `${T} info x o={"a":1}`],
  ])('%s', (_name, level, msg, fields, want) => expect(formatLogLine(T, level, msg, fields)).toBe(want));
});

function capture(format: LogFormat, level: LogLevel | 'silent') {
  const out: string[] = [];
  const log = createLogger({ format, level, sink: { write: (s) => void out.push(s) } });
  return { log, out };
}

describe('the master logger', () => {
  it('JSON: one object a line, level by name, ISO time, msg and fields; errors serialised with message and stack', () => {
    const { log, out } = capture('json', 'debug');
    log.info('node disconnected', { node: 'pi-1', component: 'router' });
    log.error('stopping store failed', { err: new SkiffError('SKIFF_ERR_INTERNAL', 'locked') });
    expect(out).toHaveLength(2);
    const [a, b] = out.map((l) => JSON.parse(l));
    expect(a).toMatchObject({ level: 'info', msg: 'node disconnected', node: 'pi-1', component: 'router' });
    expect(new Date(a.time).toISOString()).toBe(a.time);
    expect(b).toMatchObject({ level: 'error', msg: 'stopping store failed', err: { message: 'locked' } });
    expect(b.err.stack).toMatch(/locked/);
  });

  it('text: the same line the agent prints', () => {
    const { log, out } = capture('text', 'info');
    withFields(log, { component: 'scheduler' }).warn('binding failed', { pod: 'default/web-1', err: new Error('conflict') });
    expect(out).toHaveLength(1);
    expect(out[0]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z warn scheduler: binding failed pod=default\/web-1 err=conflict\n$/);
  });

  it.each([
    ['debug', 4],
    ['info', 3],
    ['warn', 2],
    ['error', 1],
    ['silent', 0],
  ] as const)('level %s writes %i of the four levels', (level, n) => {
    const { log, out } = capture('json', level);
    log.debug('d');
    log.info('i');
    log.warn('w');
    log.error('e');
    expect(out).toHaveLength(n);
  });

  it('withFields merges its fields under each call\'s own', () => {
    const { log, out } = capture('json', 'info');
    withFields(log, { component: 'api', user: 'a' }).info('x', { user: 'b' });
    expect(JSON.parse(out[0])).toMatchObject({ component: 'api', user: 'b' });
  });
});

/** Every .ts file under dir. */
function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? tsFiles(p) : p.endsWith('.ts') ? [p] : [];
  });
}

describe('master/ logs through its one logger', () => {
  it('has no console calls (comments aside)', () => {
    const offenders = tsFiles(join(root, 'master')).flatMap((f) =>
      readFileSync(f, 'utf8')
        .split('\n')
        .map((line, i) => ({ line: line.replace(/\/\/.*$|\/\*.*?\*\/|^\s*\*.*$/g, ''), at: `${f.slice(root.length + 1)}:${i + 1}` }))
        .filter(({ line }) => /\bconsole\s*\.\s*\w+/.test(line))
        .map(({ at }) => at),
    );
    expect(offenders).toEqual([]);
  });
});

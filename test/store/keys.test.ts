/** The key checks and the prefix → range rule behind list and watch. */
import { describe, expect, it } from 'vitest';
import { checkKey, prefixEnd } from '../../master/store/keys.js';

describe('prefixEnd', () => {
  const cases: [string, string | undefined][] = [
    ['', undefined],
    ['a', 'b'],
    ['/a/', '/a0'],
    ['a_', 'a`'],
    ['a%', 'a&'],
    ['\ud7ff', '\ue000'], // skips the surrogate block
    ['\uffff', '\u{10000}'],
    ['a😀', 'a😁'],
    ['a\u{10ffff}', 'b'],
    ['\u{10ffff}\u{10ffff}', undefined],
  ];
  it.each(cases)('prefixEnd(%j) = %j', (prefix, end) => {
    expect(prefixEnd(prefix)).toBe(end);
  });
});

describe('checkKey', () => {
  const bad: [string, unknown, RegExp][] = [
    ['empty', '', /must not be empty/],
    ['not a string', 42, /must be a string/],
    ['lone surrogate', '/a\ud800', /well-formed/],
    ['NUL', '/a\0b', /without NUL/],
    ['too long', '/' + 'x'.repeat(1024), /at most 1024/],
    ['not a path', 'pods/a', /must start with "\/"/],
  ];
  it.each(bad)('refuses a key that is %s', (_, key, message) => {
    expect(() => checkKey(key)).toThrowError(expect.objectContaining({ code: 'SKIFF_ERR_BAD_REQUEST', message: expect.stringMatching(message) }));
  });
  it('accepts paths with %, _ and non-ASCII', () => {
    expect(() => checkKey('/pods/default/web_1%é😀')).not.toThrow();
  });
});

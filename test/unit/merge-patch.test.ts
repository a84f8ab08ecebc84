/** JSON merge patch: RFC 7386 appendix A's test vectors, and the patch that turns one document into another. */
import { describe, expect, it } from 'vitest';
import { applyMergePatch, createMergePatch } from '../../protocol/index.js';

describe('JSON merge patch (RFC 7386)', () => {
  it.each([
    [{ a: 'b' }, { a: 'c' }, { a: 'c' }],
    [{ a: 'b' }, { b: 'c' }, { a: 'b', b: 'c' }],
    [{ a: 'b' }, { a: null }, {}],
    [{ a: 'b', b: 'c' }, { a: null }, { b: 'c' }],
    [{ a: ['b'] }, { a: 'c' }, { a: 'c' }],
    [{ a: 'c' }, { a: ['b'] }, { a: ['b'] }],
    [{ a: { b: 'c' } }, { a: { b: 'd', c: null } }, { a: { b: 'd' } }],
    [{ a: [{ b: 'c' }] }, { a: [1] }, { a: [1] }],
    [['a', 'b'], ['c', 'd'], ['c', 'd']],
    [{ a: 'b' }, ['c'], ['c']],
    [{ a: 'foo' }, null, null],
    [{ a: 'foo' }, 'bar', 'bar'],
    [{ e: null }, { a: 1 }, { e: null, a: 1 }],
    [[1, 2], { a: 'b', c: null }, { a: 'b' }],
    [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
  ])('%j + %j = %j', (target, patch, result) => {
    const before = structuredClone(target);
    expect(applyMergePatch(target, patch)).toEqual(result);
    expect(target).toEqual(before);
  });

  it.each([
    [{ a: 1, b: { c: 2, d: 3 } }, { a: 1, b: { c: 4 }, e: [1] }, { b: { c: 4, d: null }, e: [1] }],
    [{ a: [1, 2] }, { a: [1, 2] }, undefined],
    [{ spec: { containers: [{ name: 'x', image: 'a' }] } }, { spec: { containers: [{ name: 'x', image: 'b' }] } }, { spec: { containers: [{ name: 'x', image: 'b' }] } }],
  ])('createMergePatch(%j, %j) = %j, and applying it gives the second', (from, to, patch) => {
    expect(createMergePatch(from, to)).toEqual(patch);
    if (patch !== undefined) expect(applyMergePatch(from, patch)).toEqual(to);
  });

  it('treats a key named __proto__ as data', () => {
    const out = applyMergePatch({}, JSON.parse('{"__proto__": {"polluted": true}}')) as Record<string, unknown>;
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.hasOwn(out, '__proto__')).toBe(true);
  });
});

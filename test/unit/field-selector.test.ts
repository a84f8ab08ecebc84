/** Field selectors as the API server serves them: the fields each kind indexes, =, ==, !=, escapes. */
import { describe, expect, it } from 'vitest';
import { matchesFields, parseFieldSelector, type KObject } from '../../protocol/index.js';

const pod = (name: string, node: string | undefined, phase: string, namespace = 'default'): KObject => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace }, spec: { nodeName: node }, status: { phase } });
const pods = [pod('a', 'pi-1', 'Running'), pod('b', 'pi-2', 'Pending'), pod('c', undefined, 'Pending', 'shop')];

describe('field selectors', () => {
  it.each([
    ['status.phase=Running', ['a']],
    ['status.phase==Pending', ['b', 'c']],
    ['status.phase!=Running', ['b', 'c']],
    ['spec.nodeName=pi-1', ['a']],
    ['spec.nodeName=', ['c']],
    ['spec.nodeName!=,status.phase=Pending', ['b']],
    ['metadata.name=b', ['b']],
    ['metadata.namespace=shop', ['c']],
    [' metadata.name = a ', ['a']],
    ['', ['a', 'b', 'c']],
  ])('%j selects %j', (sel, names) => {
    const reqs = parseFieldSelector(sel, 'Pod');
    expect(pods.filter((p) => matchesFields(reqs, p)).map((p) => p.metadata.name)).toEqual(names);
  });

  it('unescapes \\, in a value', () => {
    expect(parseFieldSelector('metadata.name=a\\,b', 'Pod')).toEqual([{ field: 'metadata.name', op: '=', value: 'a,b' }]);
  });

  it.each([
    ['spec.foo=x', 'Pod', 'field label not supported: spec.foo (Pod supports metadata.name, metadata.namespace, spec.nodeName, status.phase)'],
    ['status.phase=Running', 'Deployment', 'field label not supported: status.phase (Deployment supports metadata.name, metadata.namespace)'],
    ['metadata.name', 'Pod', 'invalid field selector: "metadata.name": must be FIELD=VALUE, FIELD==VALUE or FIELD!=VALUE'],
  ])('refuses %j on %s', (sel, kind, message) => {
    expect(() => parseFieldSelector(sel, kind)).toThrow(message);
  });
});

import { describe, expect, it } from 'vitest';
import { bytes, cpuMilli, decode, decodeObject, encode, formatBytes, formatCpu, matchesRequirements, parseDuration, durationFlag, parseSelector, parseTopic, topics, SkiffError } from '../../protocol/index.js';

describe('topics', () => {
  it('parses what it builds', () => {
    expect(parseTopic(topics.nodeStatus('pi-1'))).toEqual({ type: 'nodeStatus', node: 'pi-1' });
    expect(parseTopic(topics.nodeRpcRes('pi-1', 'abc'))).toEqual({ type: 'nodeRpcRes', node: 'pi-1', id: 'abc' });
    expect(parseTopic(topics.apiReq('cli-1'))).toEqual({ type: 'apiReq', clientId: 'cli-1' });
    expect(parseTopic(topics.service('default', 'web'))).toEqual({ type: 'service', namespace: 'default', name: 'web' });
    expect(parseTopic(topics.apply)).toEqual({ type: 'apply' });
    expect(parseTopic(topics.joinReq('AbCdEfGhIjKlMnOpQrStUv'))).toEqual({ type: 'joinReq', session: 'AbCdEfGhIjKlMnOpQrStUv' });
  });
  it.each(['skiff/v1/nodes/pi/unknown', 'skiff/v1/nodes/pi/constructor', 'skiff/v1/nodes/pi/__proto__', 'skiff/v1/nodes/pi/toString', 'skiff/v1/nodes//status', 'other/v1/apply', 'skiff/v1/api/x', 'skiff/v1/apply/extra', 'skiff/v2/apply'])('rejects %s', (t) => {
    expect(parseTopic(t)).toBeUndefined();
  });
});

describe('codec', () => {
  it('round-trips msgpack and detects JSON from plain clients', () => {
    const v = { id: '1', verb: 'get', n: 3, nested: { a: [1, 2] } };
    expect(decode(encode(v)).value).toEqual(v);
    expect(decode(encode(v)).codec).toBe('msgpack');
    expect(decode(Buffer.from(' {"id":"1"}'))).toEqual({ value: { id: '1' }, codec: 'json' });
    expect(encode(v, 'json').toString()).toBe(JSON.stringify(v));
  });
  it('turns garbage into a bad-request error, never a crash', () => {
    for (const junk of [Buffer.from([0xd9, 0x10, 0x41]), Buffer.from([5, 6]), Buffer.from('{not json'), Buffer.alloc(0)]) {
      expect(() => decode(junk)).toThrow(SkiffError);
    }
    expect(() => decodeObject(encode([1, 2]))).toThrow(/must be a map/);
    expect(() => decodeObject(encode('str'))).toThrow(/must be a map/);
    expect(() => decodeObject(Buffer.from([0xc1]))).toThrow(/must be a map/);
  });
});

describe('quantities', () => {
  it.each([
    ['100m', 100],
    ['0.5', 500],
    [2, 2000],
    ['1.5', 1500],
    ['1m', 1],
  ])('cpu %s', (q, milli) => expect(cpuMilli(q)).toBe(milli));
  it.each([
    ['128Mi', 128 * 2 ** 20],
    ['1G', 1e9],
    ['1e3', 1000],
    ['512k', 512000],
    [1024, 1024],
  ])('memory %s', (q, b) => expect(bytes(q)).toBe(b));
  it('refuses non-quantities', () => {
    for (const q of ['lots', '1 Gi', '-1', '', null, {}]) expect(bytes(q)).toBeUndefined();
  });
  it('formats like kubectl', () => {
    expect(formatCpu(250)).toBe('250m');
    expect(formatCpu(2000)).toBe('2');
    expect(formatBytes(128 * 2 ** 20)).toBe('128Mi');
  });
});

describe('selectors', () => {
  const labels = { app: 'web', env: 'prod', tier: 'front' };
  it.each([
    ['app=web', true],
    ['app==web,env=prod', true],
    ['app!=web', false],
    ['env in (prod, qa)', true],
    ['env notin (prod)', false],
    ['tier', true],
    ['!canary', true],
    ['!tier', false],
    ['', true],
  ])('%s → %s', (s, expected) => expect(matchesRequirements(parseSelector(s), labels)).toBe(expected));
  it('names a bad term', () => {
    expect(() => parseSelector('app=web,=x')).toThrow(/"=x"/);
  });
});

describe('durations (Go time.ParseDuration grammar; a bare number is seconds)', () => {
  it.each([
    ['500ms', 500],
    ['10s', 10_000],
    ['1m30s', 90_000],
    ['1h30m', 5_400_000],
    ['2h45m30.5s', 9_930_500],
    ['1.5s', 1500],
    ['1.1s', 1100],
    ['.5s', 500],
    ['1.s', 1000],
    ['1.5h', 5_400_000],
    ['300us', 0.3],
    ['300µs', 0.3],
    ['300μs', 0.3],
    ['1500ns', 0.0015],
    ['1ms500us', 1.5],
    ['0s', 0],
    ['0', 0],
    ['2', 2000],
    ['2.5', 2500],
    [' 10s ', 10_000],
    ['+5s', 5000],
    ['1h', 3_600_000],
  ])('%s → %s ms', (s, ms) => expect(parseDuration(s)).toBe(ms));
  it.each(['ten seconds', '', 's', '.s', '1x', '1 s', '-1s', '1s-', '1h30', '1S', '1e3s', 'NaNs', '1sm', '1d', '9'.repeat(400) + 's'])('refuses %j', (s) =>
    expect(parseDuration(s)).toBeUndefined(),
  );
  it('numbers are seconds', () => {
    expect(parseDuration(1.5)).toBe(1500);
    expect(parseDuration(-1)).toBeUndefined();
    expect(parseDuration(Infinity)).toBeUndefined();
  });
  it('durationFlag names the flag and the rule', () => {
    expect(durationFlag('--timeout', '1h30m')).toBe(5_400_000);
    expect(() => durationFlag('--timeout', '90 s')).toThrow('--timeout: must be a duration such as 500ms, 10s or 1h30m, got "90 s"');
  });
});

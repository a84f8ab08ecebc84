/**
 * Which master answers which API client session (master/ha/members.ts rendezvous hashing), and the streams a
 * session holds when it moves (master/external/sessions.ts): in memory, table by table.
 */
import { describe, expect, it } from 'vitest';
import { decodeObject, encode, type ApiResponse } from '../../protocol/index.js';
import { rendezvousOwner } from '../../master/ha/members.js';
import { SessionStreams } from '../../master/external/sessions.js';

const keys = Array.from({ length: 3000 }, (_, i) => `admin:skiff-cli-${i.toString(16)}`);

describe('rendezvous ownership', () => {
  it('gives every session one owner, the same whatever the order of the members', () => {
    for (const k of keys.slice(0, 200)) expect(rendezvousOwner(k, ['m1', 'm2', 'm3'])).toBe(rendezvousOwner(k, ['m3', 'm1', 'm2']));
    expect(rendezvousOwner('x', [])).toBeUndefined();
    expect(rendezvousOwner('x', ['solo'])).toBe('solo');
  });

  it('spreads sessions over the members', () => {
    const count = new Map<string, number>();
    for (const k of keys) count.set(rendezvousOwner(k, ['m1', 'm2', 'm3'])!, (count.get(rendezvousOwner(k, ['m1', 'm2', 'm3'])!) ?? 0) + 1);
    for (const m of ['m1', 'm2', 'm3']) expect(count.get(m)!).toBeGreaterThan(800);
  });

  it('moves only the sessions of a member that left, and to a member that came only sessions it now owns', () => {
    for (const k of keys) {
      const before = rendezvousOwner(k, ['m1', 'm2', 'm3'])!;
      const after = rendezvousOwner(k, ['m1', 'm3'])!;
      if (before !== 'm2') expect(after).toBe(before);
      const grown = rendezvousOwner(k, ['m1', 'm2', 'm3', 'm4'])!;
      if (grown !== 'm4') expect(grown).toBe(before);
    }
  });
});

describe('SessionStreams', () => {
  const req = (id: string, verb: string, extra: Record<string, unknown> = {}, codec: 'json' | 'msgpack' = 'msgpack') => encode({ id, verb, ...extra }, codec);
  const all = () => true;

  it.each([
    ['a watch', [req('1', 'watch')], ['1']],
    ['logs, exec, port-forward and cp', [req('1', 'logs'), req('2', 'exec'), req('3', 'portforward'), req('4', 'cp')], ['1', '2', '3', '4']],
    ['a plain request is no stream', [req('1', 'get'), req('2', 'apply')], []],
    ['a cancelled watch', [req('1', 'watch'), req('2', 'cancel', { ref: '1' })], []],
    ['a malformed request', [Buffer.from('{not json')], []],
    ['an id that is not a string', [encode({ id: 5, verb: 'watch' })], []],
    ['a request too large to be an opening', [req('1', 'watch', { pad: 'x'.repeat(9000) })], []],
  ])('%s', (_what, payloads, ids) => {
    const s = new SessionStreams();
    for (const p of payloads) s.request('admin:c1', p);
    const moved = s.take(all, all, () => 'moved');
    expect(moved.flatMap((m) => m.answers.map((a) => decodeObject<ApiResponse>(a).value.id))).toEqual(ids);
  });

  it('ends each stream with SKIFF_ERR_GONE, done, in the codec it was asked in, and forgets the session', () => {
    const s = new SessionStreams();
    s.request('admin:c1', req('w1', 'watch', {}, 'json'));
    const [m] = s.take(all, all, (c) => `gone from ${c}`);
    expect(m.clientId).toBe('admin:c1');
    expect(JSON.parse(m.answers[0].toString())).toEqual({ id: 'w1', ok: false, done: true, error: { code: 'SKIFF_ERR_GONE', message: 'gone from admin:c1' } });
    expect(s.size).toBe(0);
  });

  it('forgets what moved elsewhere without answering, keeps what did not move, and forgets a client that left', () => {
    const s = new SessionStreams();
    for (const c of ['u:a', 'u:b', 'u:c']) s.request(c, req('1', 'watch'));
    s.gone('u:c');
    const moved = s.take((c) => c === 'u:a', () => false, () => '');
    expect(moved).toEqual([]);
    expect(s.size).toBe(1);
  });

  it('stays bounded: 256 streams a session, 4,096 sessions', () => {
    const s = new SessionStreams();
    for (let i = 0; i < 300; i++) s.request('u:a', req(String(i), 'watch'));
    for (let i = 0; i < 5000; i++) s.request(`u:${i}`, req('1', 'watch'));
    expect(s.size).toBe(4096);
    const one = new SessionStreams();
    for (let i = 0; i < 300; i++) one.request('u:a', req(String(i), 'watch'));
    expect(one.take(all, all, () => '')[0].answers).toHaveLength(256);
  });
});

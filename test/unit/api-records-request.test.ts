/**
 * The request's `encoding` at the API server (master/api/server.ts), in memory: checked (a bad value, or records
 * asked in JSON, is an error naming the field, under the request's id), honoured for the answer, and a list answered
 * in records reads back as the plain list of the same moment, across changes to the cache between lists.
 */
import { describe, expect, it } from 'vitest';
import { Audit } from '../../master/api/audit.js';
import { ApiServer } from '../../master/api/server.js';
import type { ChangeHandler } from '../../master/informer.js';
import { resultOf } from '../../cli/client.js';
import { decodeObject, encode, silentLogger, type ApiResponse, type KObject } from '../../protocol/index.js';
import { wholePayload } from '../../master/broker/fast-api.js';

const admin = { role: 'admin' as const, name: 'admin' as const };
const pod = (name: string, phase: string): KObject => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', uid: `u-${name}` }, spec: { containers: [{ name: 'c' }] }, status: { phase } }) as KObject;

/** An API server over a fake informer cache of pods that the test changes as informers do (replacing objects). */
function server() {
  const handlers: ChangeHandler[] = [];
  const cache = new Map<string, KObject>();
  const informers = {
    revision: 1,
    on: (_kind: string, h: ChangeHandler) => {
      handlers.push(h);
      for (const o of cache.values()) h(o, undefined, o);
    },
    waitForRevision: async () => undefined,
  };
  const ctx = { log: silentLogger, audit: new Audit(silentLogger), version: '9.9.9', informers, objects: { revealedRevision: () => informers.revision } };
  const answers: Buffer[] = [];
  const api = new ApiServer(ctx as never, async (_topic, payload) => void answers.push(wholePayload(payload)));
  const set = (o: KObject | undefined, name: string) => {
    const old = cache.get(name);
    if (o) cache.set(name, o);
    else cache.delete(name);
    informers.revision++;
    for (const h of handlers) h(o, old, o ?? old!);
  };
  /** The one answer to a request. */
  const ask = async (req: Record<string, unknown>, json = false): Promise<ApiResponse> => {
    answers.length = 0;
    await api.onRequest('c1', admin, json ? Buffer.from(JSON.stringify(req)) : encode(req));
    expect(answers).toHaveLength(1);
    return decodeObject<ApiResponse>(answers[0]!).value;
  };
  return { set, ask };
}

describe('the request field encoding', () => {
  it.each<[string, Record<string, unknown>, boolean, RegExp]>([
    ['an unknown encoding', { id: 'q1', verb: 'version', encoding: 'protobuf' }, false, /request: encoding: must be one of msgpack, records, got "protobuf"/],
    ['not a string', { id: 'q2', verb: 'list', kind: 'Pod', encoding: 7 }, false, /request: encoding: must be one of msgpack, records, got 7/],
    ['records in a JSON request', { id: 'q3', verb: 'version', encoding: 'records' }, true, /request: encoding: records is binary msgpack: ask in msgpack \(a JSON request is answered in JSON\)/],
  ])('%s is refused under the request id', async (_what, req, json, message) => {
    const s = server();
    const res = await s.ask(req, json);
    expect(res).toMatchObject({ id: req.id, ok: false, error: { code: 'SKIFF_ERR_BAD_REQUEST' } });
    expect(res.error!.message).toMatch(message);
  });

  it.each<[string, Record<string, unknown>, boolean, string | undefined]>([
    ['records asked', { id: 'a', verb: 'version', encoding: 'records' }, false, 'records'],
    ['msgpack asked', { id: 'b', verb: 'version', encoding: 'msgpack' }, false, undefined],
    ['nothing asked (an older client)', { id: 'c', verb: 'version' }, false, undefined],
    ['nothing asked in JSON (mosquitto_pub)', { id: 'd', verb: 'version' }, true, undefined],
    ['msgpack asked in JSON', { id: 'e', verb: 'version', encoding: 'msgpack' }, true, undefined],
  ])('%s: the answer is in that encoding', async (_what, req, json, encoding) => {
    const res = await server().ask(req, json);
    expect(res.encoding).toBe(encoding);
    expect(resultOf(res)).toEqual({ version: 'v9.9.9' });
  });

  it('a list in records is the plain list of the same moment, across changes between lists', async () => {
    const s = server();
    for (let i = 0; i < 50; i++) s.set(pod(`p${String(i).padStart(2, '0')}`, 'Pending'), `p${String(i).padStart(2, '0')}`);
    const both = async () => {
      const records = resultOf(await s.ask({ id: 'r', verb: 'list', kind: 'Pod', encoding: 'records' }));
      const plain = (await s.ask({ id: 'p', verb: 'list', kind: 'Pod' })).result;
      expect(records).toEqual(plain);
      return records as { items: KObject[]; metadata: { resourceVersion: string } };
    };
    const first = await both();
    expect(first.items).toHaveLength(50);
    // Changes between lists: status updates (a new object under a key), a delete, an add.
    for (let i = 0; i < 50; i += 3) s.set(pod(`p${String(i).padStart(2, '0')}`, 'Running'), `p${String(i).padStart(2, '0')}`);
    s.set(undefined, 'p01');
    s.set(pod('p99', 'Pending'), 'p99');
    const second = await both();
    expect(second.items.map((p) => p.metadata.name)).toEqual(first.items.map((p) => p.metadata.name).filter((n) => n !== 'p01').concat('p99'));
    expect(second.items.filter((p) => (p.status as { phase?: string } | undefined)?.phase === 'Running')).toHaveLength(17);
    expect(Number(second.metadata.resourceVersion)).toBeGreaterThan(Number(first.metadata.resourceVersion));
  });
});


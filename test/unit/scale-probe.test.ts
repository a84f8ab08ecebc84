/**
 * The scale bench's API probe (bench/scale/observe.ts): its `list pods` is the CLI's — sent as the CLI's client sends
 * a list (records asked: cli/client.ts `requestParams`) and read as the client reads it — and the plain list is timed
 * apart, in the burst only, so what the records encoding saves is seen and not hidden.
 */
import { describe, expect, it } from 'vitest';
import { ApiProbe } from '../../bench/scale/observe.js';
import { answerResult, requestParams } from '../../cli/client.js';
import { Audit } from '../../master/api/audit.js';
import { ApiServer } from '../../master/api/server.js';
import type { ChangeHandler } from '../../master/informer.js';
import type { Api } from '../../cli/types.js';
import { decodeObject, encode, silentLogger, type ApiResponse, type KObject } from '../../protocol/index.js';
import { wholePayload } from '../../master/broker/fast-api.js';

const pods: KObject[] = Array.from({ length: 20 }, (_, i) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: `p${String(i).padStart(2, '0')}`, namespace: 'default', uid: `u${i}` }, spec: { containers: [{ name: 'c' }] }, status: { phase: 'Running' } }) as KObject);

/** An API over an in-memory API server (a cache of `pods`), sending what the CLI's client sends; records every answer's encoding. */
function api(cached = pods): { api: Api; encodings: (string | undefined)[] } {
  const informers = {
    revision: 1,
    on: (_kind: string, h: ChangeHandler) => cached.forEach((p) => h(p, undefined, p)),
    waitForRevision: async () => undefined,
  };
  const ctx = { log: silentLogger, audit: new Audit(silentLogger), version: '9.9.9', informers, objects: { revealedRevision: () => informers.revision, mustGet: async (_kind: string, _ns: string, name: string) => pods.find((p) => p.metadata.name === name) } };
  let answer: Buffer | undefined;
  const server = new ApiServer(ctx as never, async (_topic, payload) => void (answer = wholePayload(payload)));
  const encodings: (string | undefined)[] = [];
  const request = async (verb: string, params: Record<string, unknown> = {}) => {
    await server.onRequest('probe', { role: 'admin', name: 'admin' }, encode({ ...requestParams(verb, params), id: 'r', verb }));
    const res = decodeObject<ApiResponse>(answer!).value;
    encodings.push(res.encoding);
    if (!res.ok) throw new Error(res.error!.message);
    return answerResult(res);
  };
  return { api: { request } as unknown as Api, encodings };
}

describe('the scale probe', () => {
  it('times `list pods` as the CLI asks it (records), and the plain list apart, last', async () => {
    const { api: client, encodings } = api();
    const probe = new ApiProbe(client, { kind: 'Pod', name: 'p00', namespace: 'default' });
    await probe.burst(2, 3, 2);
    expect(probe.getMs).toHaveLength(2);
    expect(probe.listMs).toHaveLength(3);
    expect(probe.plainListMs).toHaveLength(2);
    expect(probe.errors).toBe(0);
    // gets plain, the timed lists in records, then the plain lists.
    expect(encodings).toEqual([undefined, undefined, 'records', 'records', 'records', undefined, undefined]);
  });

  it('both lists read back the same pods', async () => {
    const { api: client } = api();
    const records = (await client.request<{ items: KObject[] }>('list', { kind: 'Pod', namespace: 'default' })).items;
    const plain = (await client.request<{ items: KObject[] }>('list', { kind: 'Pod', namespace: 'default', encoding: 'msgpack' })).items;
    expect(records).toEqual(pods);
    expect(plain).toEqual(pods);
  });

  it('notes each list\'s parts when the master says them (SKIFF_API_TIMING=1), and none otherwise', async () => {
    // Objects of their own: no earlier list made their bytes.
    const { api: client } = api(pods.map((p) => structuredClone(p)));
    const quiet = new ApiProbe(client, { kind: 'Pod', name: 'p00', namespace: 'default' });
    await quiet.burst(1, 2);
    expect(quiet.listParts).toEqual([]);
    const { api: timed } = api(pods.map((p) => structuredClone(p)));
    process.env.SKIFF_API_TIMING = '1';
    try {
      const probe = new ApiProbe(timed, { kind: 'Pod', name: 'p00', namespace: 'default' });
      await probe.burst(1, 2);
      expect(probe.listParts).toHaveLength(2);
      for (const p of probe.listParts) {
        for (const k of ['totalMs', 'toMasterMs', 'waitMs', 'prepareMs', 'answerMs', 'decodeMs'] as const) expect(p[k]).toEqual(expect.any(Number));
        expect(p.resultBytes).toBeGreaterThan(0);
        // The parts lie within the list's time, give or take the wall clock's millisecond.
        expect(p.waitMs + p.prepareMs + p.decodeMs).toBeLessThanOrEqual(p.totalMs + 2);
      }
      // The first list made the pods' records bytes; the second spliced them.
      expect(probe.listParts.map((p) => p.objectsEncoded)).toEqual([pods.length, 0]);
      // A list's encode and write come with the next list's answer: the first list has them, the last not yet.
      expect(probe.listParts.map((p) => [typeof p.encodeMs, typeof p.writeMs])).toEqual([
        ['number', 'number'],
        ['undefined', 'undefined'],
      ]);
    } finally {
      delete process.env.SKIFF_API_TIMING;
    }
  });

  it('times no plain list unless asked: the rollout loop and a burst without them ask records only', async () => {
    const { api: client, encodings } = api();
    const probe = new ApiProbe(client, { kind: 'Pod', name: 'p00', namespace: 'default' });
    await probe.burst(0, 2);
    expect(probe.plainListMs).toEqual([]);
    expect(encodings).toEqual(['records', 'records']);
  });
});

/**
 * Fuzzing the join exchange at the router (`join/{session}/req`), as a holder of the connect key who does not know
 * the join token: random bytes, anything, mutated hellos and proofs, on random and reused sessions. Properties: the
 * master never throws; a decodable message gets an answer on its session (a challenge or an error with a code);
 * no Node and no credential appear (a proof needs the token); at most 1,024 exchanges are held at once.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Identity } from '../../master/broker/acl.js';
import { ephemeralKey, newJoinSession, newNonce } from '../../protocol/join.js';
import { decode, topics, type KObject } from '../../protocol/index.js';
import { heapAfterGc, payloads, startFuzzMaster, type FuzzMaster } from './harness.js';

const joiner: Identity = { role: 'joiner', name: 'pi-9', token: 'bootstrap' };

describe('fuzzing the join exchange', () => {
  let m: FuzzMaster;

  beforeAll(async () => {
    m = await startFuzzMaster();
  });
  afterAll(() => m?.stop());

  it('answers what it can read, and no Node or credential appears without the token', async () => {
    const heap = heapAfterGc();
    const hello = { step: 'hello', node: 'pi-9', nonce: newNonce(), key: ephemeralKey().publicKey, dialled: '127.0.0.1:1883', discovered: false, facts: { arch: 'arm64', hostname: 'pi-9' }, labels: { zone: 'a' } };
    const proof = { step: 'proof', proof: newNonce() };
    const sessions = [newJoinSession(), newJoinSession()];
    const message = fc.tuple(fc.oneof(fc.constantFrom(...sessions), fc.constant('').map(() => newJoinSession())), fc.oneof(payloads(hello), payloads(proof)));
    await fc.assert(
      fc.asyncProperty(fc.array(message, { minLength: 1, maxLength: 8 }), async (batch) => {
        const from = m.published.length;
        for (const [session, payload] of batch) expect(() => m.deliver(topics.joinReq(session), payload, joiner, 'skiff-join-fuzz')).not.toThrow();
        await m.drain();
        for (const x of m.published.slice(from)) {
          const v = decode<{ ok?: boolean; error?: { code: string; message: string } }>(x.payload).value;
          if (v.ok === false) expect(v.error?.code).toMatch(/^SKIFF_ERR_/);
        }
      }),
      { numRuns: 250 },
    );
    const nodes = (await m.ctx.objects.list('Node')).items.map((n) => n.metadata.name);
    expect(nodes.sort()).toEqual(['n1', 'n2']);
    expect(m.credentials.listNodes().map((n) => n.node)).toEqual(['n1', 'n2']);
    expect(m.published.some((x) => x.topic.startsWith('skiff/v1/join/'))).toBe(true); // it answered (challenges, errors)
    expect(heapAfterGc() - heap).toBeLessThan(40 * 1024 * 1024);
  });

  it('holds at most 1,024 exchanges however many sessions are opened', async () => {
    const hello = (i: number) => Buffer.from(JSON.stringify({ step: 'hello', node: `pi-${i}`, nonce: newNonce(), key: ephemeralKey().publicKey, dialled: '127.0.0.1:1883', discovered: false, facts: { arch: 'arm64', hostname: `pi-${i}` } }));
    const from = m.published.length;
    for (let i = 0; i < 1100; i++) m.deliver(topics.joinReq(newJoinSession()), hello(i), { role: 'joiner', name: `pi-${i}`, token: 'bootstrap' }, `skiff-join-${i}`);
    await m.drain();
    const answers = m.published.slice(from).map((x) => decode<{ ok?: boolean; error?: { code: string } }>(x.payload).value);
    expect(answers).toHaveLength(1100);
    const challenged = answers.filter((a) => (a as { step?: string }).step === 'challenge').length;
    expect(challenged).toBeGreaterThan(0);
    expect(challenged).toBeLessThanOrEqual(1024);
    expect(answers.filter((a) => a.ok === false && a.error?.code === 'SKIFF_ERR_UNAVAILABLE')).toHaveLength(1100 - challenged);
  });
});

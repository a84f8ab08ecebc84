/**
 * Fuzzing the request/response API at the router (api/{clientId}/req): random bytes, anything as msgpack or JSON,
 * and mutations of valid requests of every verb, from view, edit and admin identities. Properties: the master
 * never throws; every request that carries an id gets an answer, and every error answer carries a known code and
 * a message; a view identity changes nothing; whatever admin requests do, every stored object still validates and
 * every Secret stays sealed; the heap does not grow without bound.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Identity } from '../../master/broker/acl.js';
import { isSealed } from '../../master/secrets/seal.js';
import { secretsPrefix } from '../../master/secrets/sealed-store.js';
import { ErrorCodes, decode, normalizeObject, parseTopic, topics, type ApiResponse, type KObject } from '../../protocol/index.js';
import { heapAfterGc, mutated, startFuzzMaster, type FuzzMaster } from './harness.js';

const verbs = ['apply', 'get', 'list', 'delete', 'scale', 'describe', 'watch', 'logs', 'exec', 'cordon', 'uncordon', 'drain', 'rollout', 'token', 'top', 'backup', 'version', 'can-i', 'secrets', 'cancel', 'constructor', '__proto__', 'toString'];
const kinds = ['Pod', 'pods', 'Secret', 'ConfigMap', 'Node', 'Namespace', 'deployments', 'Deployment', 'job', 'x', '__proto__', ''];
const manifest = 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: fuzz}\ndata: {a: "1"}\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: fuzz}\nstringData: {k: v}\n';

/** A request of a random verb with plausible parameters; then mutated. */
const request = fc.record(
  {
    id: fc.oneof(fc.string({ maxLength: 12 }), fc.constant('r')),
    verb: fc.constantFrom(...verbs),
    kind: fc.constantFrom(...kinds),
    name: fc.oneof(fc.constantFrom('fuzz', 'n1', 'default', 'web'), fc.string({ maxLength: 20 })),
    namespace: fc.constantFrom('default', 'shop', '', '#', '..', undefined),
    allNamespaces: fc.boolean(),
    manifest: fc.oneof(fc.constant(manifest), fc.string({ maxLength: 200 })),
    action: fc.constantFrom('create', 'list', 'revoke', 'status', 'history', 'undo', 'rotate-key', 'x'),
    replicas: fc.oneof(fc.integer({ min: -5, max: 5 }), fc.string()),
    command: fc.array(fc.string(), { maxLength: 3 }),
    access: fc.constantFrom('view', 'edit', 'admin', 'root'),
  },
  { requiredKeys: ['id', 'verb'] },
);
// A well-formed apply in about every fifth payload: left to the random requests (roughly 1 in 300 a writing apply), 150
// runs could write nothing — it happened in a clean-clone run — and the edit/admin property then checked no write path.
const applyRequest = fc.record({ id: fc.string({ maxLength: 12 }), verb: fc.constant('apply'), manifest: fc.constant(manifest), namespace: fc.constantFrom('default', undefined) }, { requiredKeys: ['id', 'verb', 'manifest'] });
const payload = fc.oneof(
  applyRequest.map((r) => Buffer.from(JSON.stringify(r))),
  fc.uint8Array({ maxLength: 256 }).map((b) => Buffer.from(b)),
  fc.jsonValue().map((v) => Buffer.from(JSON.stringify(v))),
  request.map((r) => Buffer.from(JSON.stringify(r))),
  request.chain((r) => mutated(r)).map((v) => Buffer.from(JSON.stringify(v) ?? 'null')),
);

const view: Identity = { role: 'user', name: 'grafana', access: 'view' };
const edit: Identity = { role: 'user', name: 'ci', access: 'edit' };
const admin: Identity = { role: 'admin', name: 'admin' };

describe('fuzzing the API requests', () => {
  let m: FuzzMaster;

  beforeAll(async () => {
    m = await startFuzzMaster();
  });
  afterAll(() => m?.stop());

  /** Sends `batch` as `who`, drains, and checks every answer; returns the ids asked. */
  async function run(batch: Buffer[], who: Identity): Promise<void> {
    const from = m.published.length;
    const client = `${who.name}-c1`;
    for (const p of batch) m.deliver(topics.apiReq(client), p, who, client);
    await m.drain();
    m.api.clientGone(client); // ends watches and log follows the batch opened
    const answers = m.published.slice(from).filter((x) => parseTopic(x.topic)?.type === 'apiRes').map((x) => decode<ApiResponse>(x.payload).value);
    // A watch (or a followed log) that is accepted answers only when something happens: it may stay silent.
    const asked = batch.flatMap((p) => {
      try {
        const v = decode<{ id?: unknown; verb?: unknown; follow?: unknown }>(p).value;
        const silentStream = v?.verb === 'watch' || (v?.verb === 'logs' && v.follow === true);
        return v !== null && typeof v === 'object' && !Array.isArray(v) && typeof v.id === 'string' && !silentStream ? [v.id] : [];
      } catch {
        return [];
      }
    });
    for (const id of asked) expect(answers.some((a) => a.id === id), `an answer to ${JSON.stringify(id)}`).toBe(true);
    for (const a of answers.filter((x) => !x.ok)) {
      expect(Object.keys(ErrorCodes)).toContain(a.error?.code);
      expect(a.error?.message.length).toBeGreaterThan(0);
    }
  }

  it('a view identity: an answer to every request, a clear error where due, and nothing changes', async () => {
    const heap = heapAfterGc();
    await fc.assert(
      fc.asyncProperty(fc.array(payload, { minLength: 1, maxLength: 8 }), async (batch) => {
        const rev = await m.store.revision();
        await run(batch, view);
        expect(await m.store.revision()).toBe(rev);
      }),
      { numRuns: 150 },
    );
    expect(heapAfterGc() - heap).toBeLessThan(40 * 1024 * 1024);
  });

  it('edit and admin identities: whatever they do, every stored object validates and Secrets stay sealed', async () => {
    const before = await m.store.revision();
    await fc.assert(
      fc.asyncProperty(fc.array(payload, { minLength: 1, maxLength: 6 }), fc.constantFrom(edit, admin), async (batch, who) => {
        await run(batch, who);
      }),
      { numRuns: 150 },
    );
    expect(await m.store.revision(), 'the fuzz wrote something').toBeGreaterThan(before);
    const { entries } = await m.store.list<KObject>('/registry/');
    for (const e of entries) expect(() => normalizeObject(structuredClone(e.value), e.value.metadata.namespace ?? 'default'), e.key).not.toThrow();
    for (const e of (await m.store.inner.list(secretsPrefix)).entries) expect(isSealed(e.value), e.key).toBe(true);
    // The master still answers.
    const from = m.published.length;
    m.deliver(topics.apiReq('admin-c9'), Buffer.from(JSON.stringify({ id: 'alive', verb: 'version' })), admin, 'admin-c9');
    await m.drain();
    expect(m.published.slice(from).map((x) => decode<ApiResponse>(x.payload).value)).toContainEqual(expect.objectContaining({ id: 'alive', ok: true }));
  });
});

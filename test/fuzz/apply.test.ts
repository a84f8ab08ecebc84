/**
 * Fuzzing `skiff/v1/apply` at the router: random bytes, random text, YAML and JSON of anything, and mutations of
 * valid manifests of every kind. Properties: every message gets exactly one outcome event (Applied or ApplyFailed
 * with a message); what is stored is exactly what the results say was created or configured, and validates; a
 * Secret's values never appear in an event or a log line, however broken the manifest around them.
 */
import fc from 'fast-check';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Identity } from '../../master/broker/acl.js';
import { decode, normalizeObject, topics, type EventMessage, type KObject } from '../../protocol/index.js';
import { heapAfterGc, mutated, startFuzzMaster, type FuzzMaster } from './harness.js';

const deployment = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', labels: { app: 'web' } },
  spec: { replicas: 2, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', command: ['sleep', '1'], ports: [{ containerPort: 80 }] }] } } },
};
const service = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ port: 80 }] } };
const cronjob = { apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name: 'c' }, spec: { schedule: '*/5 * * * *', jobTemplate: { spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', command: ['true'] }] } } } } } };
const valid = [deployment, service, cronjob, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg' }, data: { a: '1' } }];

/** A Secret whose value the fuzzer must never see echoed. */
const secretValue = 'Fuzz-Secret-Value-3e7d0a91';
const secret = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' }, stringData: { token: secretValue } };

const text = fc.oneof(
  fc.string({ maxLength: 300 }),
  fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b).toString('latin1')),
  fc.anything().map((v) => JSON.stringify(v) ?? 'null'),
  fc.constantFrom(...valid).chain((o) => mutated(o)).map((o) => stringify(o ?? null)),
  fc.constantFrom(...valid).chain((o) => mutated(o)).map((o) => JSON.stringify(o) ?? 'null'),
  // A Secret made wrong in every way: its value beside the break.
  mutated(secret).map((o) => stringify(o ?? null)),
  fc.array(fc.constantFrom(...valid, secret).chain((o) => mutated(o)), { maxLength: 4 }).map((docs) => docs.map((d) => stringify(d ?? null)).join('---\n')),
);

const editor: Identity = { role: 'user', name: 'ci', access: 'edit' };

describe('fuzzing the apply topic', () => {
  let m: FuzzMaster;

  beforeAll(async () => {
    m = await startFuzzMaster();
  });
  afterAll(() => m?.stop());

  it('one outcome event per message; stored as the results say; no Secret value in events or logs', async () => {
    const heap = heapAfterGc();
    await fc.assert(
      fc.asyncProperty(fc.oneof(text.map((t) => Buffer.from(t, 'utf8')), fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b))), async (payload) => {
        const from = m.published.length;
        const rev = await m.store.revision();
        m.deliver(topics.apply, payload, editor);
        await m.drain();
        const events = m.published.slice(from).filter((x) => x.topic === topics.events).map((x) => decode<EventMessage>(x.payload).value);
        expect(events.filter((e) => e.reason === 'Applied' || e.reason === 'ApplyFailed')).toHaveLength(1);
        const [e] = events;
        expect(e.message.length).toBeGreaterThan(0);
        const changed = (e.results ?? []).filter((r) => r.action === 'created' || r.action === 'configured');
        if (changed.length === 0) expect(await m.store.revision()).toBe(rev);
        for (const r of changed) {
          const o = await m.ctx.objects.get(r.kind, r.namespace, r.name);
          expect(o, `${r.kind}/${r.name} stored`).toBeDefined();
          expect(() => normalizeObject(structuredClone(o as KObject), r.namespace)).not.toThrow();
        }
        const said = Buffer.concat(m.published.slice(from).map((x) => x.payload)).toString('latin1') + m.logs.lines.join('\n');
        expect(said.includes(secretValue) || said.includes(Buffer.from(secretValue).toString('base64'))).toBe(false);
      }),
      { numRuns: 300 },
    );
    expect(heapAfterGc() - heap).toBeLessThan(40 * 1024 * 1024);
  });
});

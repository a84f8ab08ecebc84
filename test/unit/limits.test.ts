/**
 * The limits of protocol/limits.ts and the rules around them, table by table: pod counts against
 * --max-replicas, data and object sizes, expanded YAML, quantities, the cap on reported field errors.
 */
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import {
  SkiffError,
  checkObjectSize,
  maxExpandedBytes,
  normalizeObject,
  parseManifests,
  parseQuantity,
  payloadTooLarge,
  showBytes,
} from '../../protocol/index.js';
import { expandedSize } from '../../protocol/yaml-size.js';
import { decode, silentLogger } from '../../protocol/index.js';
import { Audit } from '../../master/api/audit.js';
import { ApiServer } from '../../master/api/server.js';
import { errorOf } from '../helpers/validation.js';
import { wholePayload } from '../../master/broker/fast-api.js';

const MiB = 1024 * 1024;
const template = { metadata: { labels: { app: 'a' } }, spec: { containers: [{ name: 'c', command: ['x'] }] } };
const jobTemplate = { spec: { restartPolicy: 'Never', containers: [{ name: 'c', command: ['x'] }] } };
const objects: Record<string, (n: number) => unknown> = {
  Deployment: (n) => ({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'o' }, spec: { replicas: n, selector: { matchLabels: { app: 'a' } }, template } }),
  ReplicaSet: (n) => ({ apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'o' }, spec: { replicas: n, selector: { matchLabels: { app: 'a' } }, template } }),
  'Job parallelism': (n) => ({ apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'o' }, spec: { parallelism: n, template: jobTemplate } }),
  'Job completions': (n) => ({ apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'o' }, spec: { completions: n, template: jobTemplate } }),
  CronJob: (n) => ({ apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name: 'o' }, spec: { schedule: '* * * * *', jobTemplate: { spec: { parallelism: n, template: jobTemplate } } } }),
  HPA: (n) => ({ apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: { name: 'o' }, spec: { scaleTargetRef: { kind: 'Deployment', name: 'd' }, maxReplicas: n } }),
};
const fields: Record<string, string> = {
  Deployment: 'spec.replicas',
  ReplicaSet: 'spec.replicas',
  'Job parallelism': 'spec.parallelism',
  'Job completions': 'spec.completions',
  CronJob: 'spec.jobTemplate.spec.parallelism',
  HPA: 'spec.maxReplicas',
};

describe('pod counts are bounded by --max-replicas, one rule for every kind', () => {
  for (const [what, make] of Object.entries(objects)) {
    it(`${what}: at the maximum accepted, above refused naming ${fields[what]}`, () => {
      expect(() => normalizeObject(make(100), 'default', 100)).not.toThrow();
      const e = (() => {
        try {
          normalizeObject(make(101), 'default', 100);
        } catch (err) {
          return err as SkiffError;
        }
        throw new Error('accepted');
      })();
      expect(e.code).toBe('SKIFF_ERR_VALIDATION');
      expect(e.message).toContain(`${fields[what]}: must be at most 100 (the master's --max-replicas), got 101`);
    });
  }
  it('without a master maximum, int32 as Kubernetes: 1e300 is an integer to JavaScript but no replica count', () => {
    expect(errorOf(objects.Deployment(1e300)).message).toContain("spec.replicas: must be at most 2147483647 (the master's --max-replicas)");
    expect(() => normalizeObject(objects.Deployment(1_000_000_000))).not.toThrow();
  });
});

describe('sizes', () => {
  const cm = (data: Record<string, string>, extra: Record<string, unknown> = {}) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data, ...extra });
  const cases: [string, unknown, string | undefined][] = [
    ['ConfigMap data of exactly 1 MiB', cm({ a: 'x'.repeat(MiB / 2), b: 'y'.repeat(MiB / 2) }), undefined],
    ['ConfigMap data over 1 MiB over two keys', cm({ a: 'x'.repeat(MiB / 2), b: 'y'.repeat(MiB / 2 + 1) }), 'ConfigMap/c: data: must hold at most 1 MiB in total, got 1.0 MiB'],
    ['ConfigMap data and binaryData together', cm({ a: 'x'.repeat(MiB / 2) }, { binaryData: { b: Buffer.alloc(MiB / 2 + 3).toString('base64') } }), 'must hold at most 1 MiB in total'],
    ['Secret data counted decoded (1 MiB of base64 is 0.75 MiB)', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' }, data: { k: Buffer.alloc(0.75 * MiB).toString('base64') } }, undefined],
    ['Secret stringData over 1 MiB', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' }, stringData: { k: 'x'.repeat(MiB + 1) } }, 'Secret/s: data: must hold at most 1 MiB in total'],
  ];
  for (const [what, raw, message] of cases)
    it(what, () => {
      if (message === undefined) expect(() => normalizeObject(raw)).not.toThrow();
      else expect(errorOf(raw).message).toContain(message);
    });

  it('an object over 1.5 MiB encoded is refused whatever makes it big', () => {
    expect(() => checkObjectSize({ kind: 'Pod', metadata: { name: 'p', annotations: { a: 'x'.repeat(1.5 * MiB - 100) } } } as never)).not.toThrow();
    expect(() => checkObjectSize({ kind: 'Pod', metadata: { name: 'p', annotations: { a: 'x'.repeat(1.5 * MiB) } } } as never)).toThrow(/^Pod\/p: the object is 1\.5 MiB encoded; it must be at most 1\.5 MiB encoded$/);
  });

  it('payloads: over 3 MiB named with both sizes, refused before parsing', () => {
    expect(payloadTooLarge('request', 3 * MiB)).toBeUndefined();
    expect(payloadTooLarge('request', 50 * MiB)).toBe('request: 50 MiB is over the limit of 3 MiB');
    expect(() => parseManifests('a: b\n#' + 'x'.repeat(3 * MiB))).toThrow(/^manifest: 3\.0 MiB is over the limit of 3 MiB$/);
  });

  it('showBytes: exact sizes short, others rounded to a tenth', () => {
    expect([showBytes(1.5 * MiB), showBytes(3 * MiB), showBytes(MiB + 1), showBytes(2048), showBytes(812)]).toEqual(['1.5 MiB', '3 MiB', '1.0 MiB', '2 KiB', '812 bytes']);
  });
});

describe('YAML aliases are measured expanded, before expansion', () => {
  const size = (text: string) => expandedSize(parseAllDocuments(text)[0] as never, Infinity);
  it('an alias costs what it points at; without aliases the size follows the text', () => {
    const plain = size('a: "' + 'x'.repeat(1000) + '"\nb: "' + 'x'.repeat(1000) + '"');
    const aliased = size('a: &x "' + 'x'.repeat(1000) + '"\nb: *x');
    expect(aliased).toBe(plain);
    expect(plain).toBeGreaterThan(2000);
    expect(plain).toBeLessThan(2100);
  });
  it('a billion laughs is measured in linear time and refused', () => {
    const levels = ['l0: &l0 [' + Array(10).fill('"lol"').join(', ') + ']', ...Array.from({ length: 9 }, (_, i) => `l${i + 1}: &l${i + 1} [${Array(10).fill(`*l${i}`).join(', ')}]`)];
    const t0 = performance.now();
    expect(size(levels.join('\n'))).toBeGreaterThan(1e9);
    expect(performance.now() - t0).toBeLessThan(500);
    expect(() => parseManifests(levels.join('\n'))).toThrow(`manifest: the YAML aliases expand to more than ${showBytes(maxExpandedBytes)}`);
  });
  it('the expanded sizes of all documents in a stream add up', () => {
    const doc = (i: number) => `kind: ConfigMap\nmetadata: {name: c${i}}\ndata: {a: &a "${'x'.repeat(MiB / 2)}", b: *a}\n`;
    expect(parseManifests([doc(1), doc(2)].join('---\n'))).toHaveLength(2);
    expect(() => parseManifests([doc(1), doc(2), doc(3), doc(4)].join('---\n'))).toThrow('the YAML aliases expand to more than 3 MiB');
  });
  it('an alias into its own anchor (a cycle) is refused, not followed', () => {
    expect(() => parseManifests('a: &a [1, *a]')).toThrow(/manifest: /);
  });
});

describe('quantities: one parser refuses non-finite and absurd values', () => {
  const table: [unknown, number | undefined][] = [
    ['500m', 0.5],
    ['128Mi', 128 * MiB],
    ['8Pi', 2 ** 53],
    ['1e3', 1000],
    [2, 2],
    ['1e400', undefined],
    [Infinity, undefined],
    [Number.NaN, undefined],
    ['99999E', undefined],
    ['9Pi', undefined],
    ['8Ei', undefined],
    [2 ** 53 + 2, undefined],
    ['-1', undefined],
    ['1e-400', 0],
  ];
  for (const [q, want] of table) it(`${String(q)} → ${want}`, () => expect(parseQuantity(q)).toBe(want));
});

describe('field errors are capped', () => {
  it('a map of 100,000 bad keys gives 50 messages and a count, not 100,000 messages', () => {
    const data = Object.fromEntries(Array.from({ length: 100_000 }, (_, i) => [`bad key ${i}`, 'v']));
    const e = errorOf({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data });
    expect(e.details).toHaveLength(50);
    expect(e.message).toMatch(/; and 99950 more$/);
    expect(e.message.length).toBeLessThan(10_000);
  });
});

describe("the API's own payload check (behind a broker that lets a big payload through)", () => {
  it('refuses an apply or a request over 3 MiB before decoding it, with the sizes', async () => {
    const events: { reason: string; message: string }[] = [];
    const answers: Buffer[] = [];
    const ctx = { events: { emit: (e: { reason: string; message: string }) => events.push(e) }, log: silentLogger, audit: new Audit(silentLogger), objects: { apply: () => expect.fail('decoded and applied') } };
    const api = new ApiServer(ctx as never, async (_topic, payload) => void answers.push(wholePayload(payload)));
    const big = Buffer.alloc(4 * MiB, 0x20);
    await api.onApply('c', { role: 'admin', name: 'admin' }, big);
    expect(events).toMatchObject([{ reason: 'ApplyFailed', message: 'skiff/v1/apply: 4 MiB is over the limit of 3 MiB' }]);
    await api.onRequest('c', { role: 'admin', name: 'admin' }, big);
    expect(decode<{ ok: boolean; error: { message: string } }>(answers[0]).value).toMatchObject({ ok: false, error: { message: 'request: 4 MiB is over the limit of 3 MiB' } });
  });
});

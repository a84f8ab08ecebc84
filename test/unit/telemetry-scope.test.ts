/**
 * The telemetry scope of work queues (master/telemetry/scope.ts): a queue made while `withTelemetry` runs reports
 * to that master's metrics, one made outside reports nowhere, nested scopes restore the outer one, and the scope
 * is synchronous — no AsyncLocalStorage, whose first use turns on promise hooks for the whole process (every
 * promise the master makes would pay for it).
 */
import { describe, expect, it } from 'vitest';
import { WorkQueue } from '../../master/controllers/queue.js';
import { Telemetry } from '../../master/telemetry/registry.js';
import { queueMetricsFor, withTelemetry } from '../../master/telemetry/scope.js';
import { silentLogger } from '../../protocol/index.js';

const adds = async (t: Telemetry, name: string) => (await t.queueAdds.get()).values.find((v) => v.labels.name === name)?.value ?? 0;

describe('withTelemetry', () => {
  it('a queue made inside the scope counts into that telemetry; one made outside into none', async () => {
    const t = new Telemetry();
    const inside = withTelemetry(t, () => new WorkQueue('inside', async () => {}, silentLogger));
    const outside = new WorkQueue('outside', async () => {}, silentLogger);
    inside.add('a');
    outside.add('b');
    await inside.idle();
    await outside.idle();
    expect(await adds(t, 'inside')).toBe(1);
    expect(await adds(t, 'outside')).toBe(0);
    inside.stop();
    outside.stop();
  });

  it.each<[string, () => unknown]>([
    ['inside', () => withTelemetry(new Telemetry(), () => queueMetricsFor('q'))],
    ['outside', () => queueMetricsFor('q')],
    ['after a nested scope ended, the outer one', () => withTelemetry(new Telemetry(), () => (withTelemetry(new Telemetry(), () => undefined), queueMetricsFor('q')))],
    ['without telemetry (a unit test\'s context)', () => withTelemetry(undefined, () => queueMetricsFor('q'))],
  ])('%s', (what, fn) => expect(fn() !== undefined).toBe(what !== 'outside' && !what.startsWith('without')));

  it('ends with its function: nothing carries over into later asynchronous work', async () => {
    const later = await withTelemetry(new Telemetry(), async () => {
      await Promise.resolve();
      return queueMetricsFor('q');
    });
    expect(later).toBeUndefined();
  });

  it('a throwing function leaves no scope behind', () => {
    expect(() => withTelemetry(new Telemetry(), () => { throw new Error('boom'); })).toThrow('boom');
    expect(queueMetricsFor('q')).toBeUndefined();
  });
});

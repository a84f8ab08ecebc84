/** protocol/conditions.ts: the one "is it Ready" every part of Skiff uses. */
import { describe, expect, it } from 'vitest';
import { conditionOf, isReady, readyCondition, readyStatus, type HasConditions } from '../../protocol/index.js';

const withConditions = (...conditions: unknown[]) => ({ status: { conditions } }) as HasConditions;

describe('Ready', () => {
  it.each([
    ['no object', undefined, undefined],
    ['no status', {} as HasConditions, undefined],
    ['no conditions', { status: {} } as HasConditions, undefined],
    ['conditions not a list (a client sent junk)', { status: { conditions: 'Ready' } } as unknown as HasConditions, undefined],
    ['only other conditions', withConditions({ type: 'PodScheduled', status: 'True' }), undefined],
    ['Ready True', withConditions({ type: 'PodScheduled', status: 'True' }, { type: 'Ready', status: 'True' }), 'True'],
    ['Ready False', withConditions({ type: 'Ready', status: 'False' }), 'False'],
    ['Ready Unknown', withConditions({ type: 'Ready', status: 'Unknown' }), 'Unknown'],
    ['two Ready: the first counts', withConditions({ type: 'Ready', status: 'False' }, { type: 'Ready', status: 'True' }), 'False'],
    ['a null entry is skipped', withConditions(null, { type: 'Ready', status: 'True' }), 'True'],
  ])('%s → %s', (_name, o, want) => {
    expect(readyStatus(o)).toBe(want);
    expect(isReady(o)).toBe(want === 'True');
    expect(readyCondition(o)?.status).toBe(want);
  });

  it('conditionOf finds any type', () => {
    const o = withConditions({ type: 'Ready', status: 'True' }, { type: 'MemoryPressure', status: 'False', reason: 'Fine' });
    expect(conditionOf(o, 'MemoryPressure')).toEqual({ type: 'MemoryPressure', status: 'False', reason: 'Fine' });
    expect(conditionOf(o, 'DiskPressure')).toBeUndefined();
  });
});

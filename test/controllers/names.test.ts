/**
 * Generated pod names (issue 16): a 5-character suffix collides now and then among thousands of pods;
 * the create draws just the suffix again (the apiserver's generateName retry) instead of failing the
 * ReplicaSet's sync. Suffixes come from a scripted source, so each collision is on purpose.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startReplicaSetController } from '../../master/controllers/replicaset.js';
import { harness, type Harness } from './harness.js';
import { podWith, rsWith } from './builders.js';

/** A suffix source that hands out `script` in order, then fresh suffixes; it counts its draws. */
function scripted(script: string[]): { next: () => string; draws: () => number } {
  let i = 0;
  const next = () => {
    const s = script[i] ?? `z${String(i).padStart(4, '0')}`;
    i++;
    return s;
  };
  return { next, draws: () => i };
}

let h: Harness | undefined;
afterEach(() => h?.stop());

describe('generateName collisions', () => {
  const rows: [string, { taken: string[]; script: string[]; replicas: number; names: string[] }][] = [
    ['no collision: every first draw is kept', { taken: [], script: ['aaaaa', 'bbbbb', 'ccccc'], replicas: 3, names: ['web-aaaaa', 'web-bbbbb', 'web-ccccc'] }],
    ['a draw that hits an existing pod is drawn again', { taken: ['web-aaaaa'], script: ['aaaaa', 'bbbbb', 'ccccc', 'ddddd'], replicas: 3, names: ['web-aaaaa', 'web-bbbbb', 'web-ccccc', 'web-ddddd'] }],
    ['several draws in a row collide', { taken: ['web-aaaaa', 'web-bbbbb'], script: ['aaaaa', 'bbbbb', 'aaaaa', 'ccccc'], replicas: 1, names: ['web-aaaaa', 'web-bbbbb', 'web-ccccc'] }],
    ['pods of one slow-start batch draw the same suffix', { taken: [], script: ['aaaaa', 'bbbbb', 'bbbbb', 'ccccc', 'ddddd'], replicas: 3, names: ['web-aaaaa', 'web-bbbbb', 'web-ccccc'] }],
  ];
  it.each(rows)('%s', async (_rule, row) => {
    const suffixes = scripted(row.script);
    h = await harness({ nameSuffix: suffixes.next });
    // Pods that already hold a name; labels the ReplicaSet does not select, so they are not adopted.
    for (const name of row.taken) await h.create(podWith({ name, labels: { app: 'other' } }));
    await h.run(startReplicaSetController);
    await h.create(rsWith({ replicas: row.replicas }));
    expect(h.pods().map((p) => p.metadata.name).sort()).toEqual(row.names);
    // Every pod made on the first sync attempt: no failed create, no sync error (settle fails on logged errors).
    expect(h.reasons('ReplicaSet', 'default', 'web')).toEqual(Array(row.replicas).fill('SuccessfulCreate'));
    expect(h.get('ReplicaSet', 'default', 'web')!.status?.replicas).toBe(row.replicas);
  });

  it('gives up after 8 draws with AlreadyExists naming the last one', async () => {
    const suffixes = scripted(Array(20).fill('aaaaa'));
    h = await harness({ nameSuffix: suffixes.next });
    await h.create(podWith({ name: 'web-aaaaa' }));
    const pod = { ...podWith({ name: '' }), metadata: { name: '', generateName: 'web-', namespace: 'default' } };
    await expect(h.objects.create(pod)).rejects.toMatchObject({ code: 'SKIFF_ERR_ALREADY_EXISTS', message: expect.stringContaining('"web-aaaaa" already exists') });
    expect(suffixes.draws()).toBe(8);
  });
});

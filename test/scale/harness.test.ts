/**
 * The scale harness at CI scale (issue 16), the same code path as `npm run bench:scale`: a real `skiff master`
 * process, simulated agents speaking the real protocol over real MQTT in this process, a Deployment rolled out
 * with a watch open on its pods. Every pod Running, no node ever NotReady, no pod deleted or name reused, no agent
 * dropped, the API answering throughout. SKIFF_SCALE_AGENTS / SKIFF_SCALE_PODS raise the figures.
 */
import { describe, expect, it } from 'vitest';
import { runScale } from '../../bench/scale/run.js';

const agents = Number(process.env.SKIFF_SCALE_AGENTS ?? 200);
const pods = Number(process.env.SKIFF_SCALE_PODS ?? 500);

describe(`the scale harness: ${pods} pods on ${agents} simulated agents`, () => {
  it('runs every pod, with no node NotReady and no duplicate name', async () => {
    const r = await runScale({ agents, pods, idleMs: 1000, apiSamples: { gets: 20, lists: 5 }, timeoutMs: 150_000 });
    expect({ running: r.runningSeen, all: r.allRunning }).toEqual({ running: pods, all: true });
    expect(r.nodesNotReady).toEqual([]);
    expect(r.duplicateNames).toBe(0);
    expect(r.nameCollisions).toBe(0);
    expect(r.podsDeleted).toBe(0);
    expect(r.agentsReconnected).toBe(0);
    expect(r.apiErrors).toBe(0);
    // Figures for the log (the bench prints them as a table): a loaded CI machine makes them noisy, not wrong.
    process.stderr.write(`scale: ${pods} pods on ${agents} agents Running after ${r.seconds.toFixed(1)} s (${r.podsPerSecond.toFixed(0)} pods/s), ${(r.writeBytesPerPod / 1024).toFixed(1)} KB written per pod, peak RSS ${(r.peakRssBytes / 2 ** 20).toFixed(0)} MB\n`);
  }, 240_000);
});

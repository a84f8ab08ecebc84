// `skiff master --scheduler-config FILE` with a bad file: the real executable exits 1 at once,
// naming the file, the field and the rule, before it opens a store or a port.
import { execFile } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { requireBuild, skiffBin } from '../helpers/procs.js';
import { tempDir } from '../helpers/wait.js';

describe('skiff master --scheduler-config', () => {
  it('refuses a bad KubeSchedulerConfiguration at start, naming the field', async () => {
    requireBuild();
    const dir = await tempDir('skiff-sched-e2e-');
    const file = join(dir, 'sched.yaml');
    writeFileSync(file, `apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
profiles:
- pluginConfig:
  - name: NodeResourcesFit
    args: {scoringStrategy: {type: MostAllocated, resources: [{name: cpu, weight: 0}]}}
`);
    const dataDir = join(dir, 'data');
    const run = promisify(execFile)(process.execPath, [skiffBin, 'master', '--scheduler-config', file, '--data-dir', dataDir, '--mqtt-port', '0', '--http-port=-1', '--no-mdns']);
    const err = await run.then(() => undefined, (e: { code: number; stderr: string }) => e);
    expect(err?.code).toBe(1);
    expect(err?.stderr).toContain(`${file}: profiles[0].pluginConfig[0].args.scoringStrategy.resources[0].weight: must be an integer from 1 to 100, got 0`);
    expect(existsSync(join(dataDir, 'skiff.db'))).toBe(false);
    await rm(dir, { recursive: true, force: true });
  }, 30_000);
});

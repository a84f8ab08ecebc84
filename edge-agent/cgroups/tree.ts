/**
 * The node's cgroup tree, `skiff/<pod uid>/<container>`, over either version (flavor.ts). A container's
 * cgroup is made afresh for each attempt, so its OOM counter and usage are that attempt's; the pod's own
 * cgroup carries the pod-wide pids limit. Removing one first kills what is left in it, as a container's
 * processes end with it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { killPids } from './kill.js';
import { readPids } from './files.js';
import { openDown, type Flavor } from './flavor.js';
import type { Cgroups, ContainerCgroup, ContainerLimits } from './types.js';

/** A uid or container name usable as one path level (they are data from the master: never `..` or a `/`). */
const safeLevel = /^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$/;

/** What the tree takes. */
export interface TreeOptions {
  /** The agent's own directory under each mount, e.g. `skiff/agent-1a2b3c4d` (one per data dir: two agents on one host never touch each other's pods); default `skiff`. */
  name?: string;
  /** pids.max of each pod (kubelet's --pod-max-pids); undefined: unlimited. */
  podPidsLimit?: number;
}

/** Removes a cgroup directory; true when it is gone. cgroupfs lets rmdir remove a dir of control files. */
function rmdirCgroup(dir: string): boolean {
  try {
    fs.rmdirSync(dir);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT';
  }
}

/** The tree over `flavor`. */
export function cgroupTree(flavor: Flavor, opts: TreeOptions = {}): Cgroups {
  const top = opts.name ?? 'skiff';

  /** Kills everything in `rel` and removes its directories (waiting up to 2 s for the processes to go). */
  async function empty(rel: string): Promise<void> {
    const dirs = flavor.dirs(rel).filter((d) => fs.existsSync(d));
    if (!dirs.length) return;
    await killPids(() => dirs.flatMap((d) => readPids(path.join(d, 'cgroup.procs'))), () => flavor.killAtOnce(rel));
    for (const d of dirs) if (!rmdirCgroup(d)) throw new Error(`cannot remove cgroup ${d}: processes are still in it`);
  }

  function container(podUid: string, name: string): ContainerCgroup {
    if (!safeLevel.test(podUid) || !safeLevel.test(name)) throw new Error(`not a usable cgroup name: ${JSON.stringify(`${podUid}/${name}`)}`);
    const podRel = path.join(top, podUid);
    const rel = path.join(podRel, name);
    const procsFiles = () => flavor.dirs(rel).map((d) => path.join(d, 'cgroup.procs'));
    return {
      path: rel,
      async prepare(limits: ContainerLimits) {
        const fresh = !flavor.dirs(podRel).every((d) => fs.existsSync(d));
        for (const d of flavor.dirs(podRel)) fs.mkdirSync(d, { recursive: true });
        openDown(flavor, top);
        if (fresh && opts.podPidsLimit !== undefined) flavor.applyPodPids(podRel, opts.podPidsLimit);
        flavor.openForChildren(podRel);
        await empty(rel);
        for (const d of flavor.dirs(rel)) fs.mkdirSync(d);
        flavor.applyLimits(rel, limits);
        return procsFiles();
      },
      procsFiles,
      oomKills: () => flavor.oomKills(rel),
      usage: () => flavor.usage(rel),
      killAll() {
        if (flavor.killAtOnce(rel)) return;
        for (const d of flavor.dirs(rel))
          for (const pid of readPids(path.join(d, 'cgroup.procs'))) {
            try {
              process.kill(pid, 'SIGKILL');
            } catch {
              // gone already
            }
          }
      },
    };
  }

  return {
    version: flavor.version,
    controllers: flavor.controllers,
    container,
    async removePod(podUid: string) {
      if (!safeLevel.test(podUid)) return;
      const podRel = path.join(top, podUid);
      for (const d of flavor.dirs(podRel)) {
        let children: string[] = [];
        try {
          children = fs.readdirSync(d, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
        } catch {
          continue;
        }
        for (const c of children) await empty(path.join(podRel, c));
      }
      await empty(podRel);
    },
    dispose() {
      for (const d of flavor.dirs(top)) rmdirCgroup(d);
    },
    podUids() {
      try {
        const dir = flavor.dirs(top)[0];
        return fs.readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory() && safeLevel.test(e.name)).map((e) => e.name);
      } catch {
        return [];
      }
    },
  };
}

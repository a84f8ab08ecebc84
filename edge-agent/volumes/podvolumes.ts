/**
 * A pod's volumes on this node, under DATA/pods/<uid>/volumes/<name>/ (deleted with the pod, like an
 * emptyDir; kept across container restarts and agent restarts):
 *   emptyDir   an empty directory (medium: Memory is not honoured: it is disk-backed);
 *   hostPath   the host path itself, checked against its type;
 *   persistentVolumeClaim   the directory of the volume bound to the claim (the desired set's `volumes`),
 *              created if missing; it is not deleted with the pod (the master asks for that: rpc/volume.ts);
 *   configMap, secret   projected files, rewritten atomically when a new desired set brings new content
 *              (env vars, by contrast, keep their values until the container restarts, as in Kubernetes).
 *              Secret volumes live on tmpfs when the node has one (tmpfs.ts): directory 0700, files 0600.
 * A pod that runs as another user (securityContext.runAsUser) owns its volume directories and files; the
 * directories above them only let it pass (0711). `setup` throws for a missing non-optional source; the pod then
 * waits with CreateContainerConfigError.
 */
import path from 'node:path';
import { promises as fsp } from 'node:fs';
import { SkiffError } from '../../protocol/errors.js';
import type { DesiredMessage } from '../../protocol/messages.js';
import type { Container, Pod, Volume } from '../../protocol/types.js';
import { writeProjected } from './atomic.js';
import { prepareHostPath } from './hostpath.js';
import { createLinks, mountEnv, mountLinks, removeLinks, type MountLink } from './mounts.js';
import { fingerprint, projectedFiles } from './sources.js';

/** Where a pod's volumes go beyond DATA/pods/<uid>/volumes, and whom they belong to. */
export interface VolumeOptions {
  /** The tmpfs directory of this pod's secret volumes (tmpfs.ts podSecretDir); absent: on disk with the others. */
  secretDir?: string;
  /** The user the pod's containers run as, when not the agent's: it owns the volumes. */
  owner?: { uid: number; gid: number };
  /** false for container pods, whose volumes are bind-mounted (mounts.ts is for processes). */
  links?: boolean;
}

/** Directories a pod's user passes through without reading them. */
const passMode = 0o711;

type Sources = Pick<DesiredMessage, 'configMaps' | 'secrets' | 'volumes'>;

/** The volumes of one pod. */
export class PodVolumes {
  private readonly written = new Map<string, string>();
  private readonly hostPaths = new Map<string, string>();
  private links: MountLink[] = [];
  /** Refreshes run one after another (two desired sets in a row must not interleave their writes). */
  private queue: Promise<void> = Promise.resolve();

  private readonly secretVolumes: ReadonlySet<string>;

  constructor(
    private readonly pod: Pod,
    /** DATA/pods/<uid>/volumes */
    private readonly root: string,
    private readonly opts: VolumeOptions = {},
  ) {
    this.secretVolumes = new Set((pod.spec.volumes ?? []).filter((v) => v.secret).map((v) => v.name));
  }

  /** The directory a volume's files are in. */
  dirOf(name: string): string {
    const host = this.hostPaths.get(name);
    if (host) return host;
    return this.opts.secretDir && this.secretVolumes.has(name) ? path.join(this.opts.secretDir, name) : path.join(this.root, name);
  }

  /** Creates every volume and the containers' mount links; throws naming the volume when one cannot be made. */
  async setup(desired: Sources): Promise<void> {
    for (const dir of [this.root, ...(this.opts.secretDir ? [this.opts.secretDir] : [])]) {
      await fsp.mkdir(dir, { recursive: true, mode: passMode });
      await fsp.chmod(dir, passMode);
    }
    for (const v of this.pod.spec.volumes ?? []) await this.prepare(v, desired);
    if (this.opts.links === false) return;
    this.links = [...(this.pod.spec.initContainers ?? []), ...this.pod.spec.containers].flatMap((c) => mountLinks(c, (n) => this.dirOf(n)));
    await createLinks(this.links);
  }

  /** The SKIFF_VOLUME_<NAME> env vars of a container. */
  envFor(c: Container): Record<string, string> {
    return mountEnv(c, (n) => this.dirOf(n));
  }

  /** Brings configMap/secret volumes up to date with a new desired set; a missing source keeps the old files. */
  refresh(desired: Sources): Promise<void> {
    const run = async () => {
      for (const v of this.pod.spec.volumes ?? [])
        if (v.configMap || v.secret) await this.project(v, desired).catch(() => undefined); // kubelet too keeps the last content when a source goes missing
    };
    this.queue = this.queue.then(run, run);
    return this.queue;
  }

  /** Removes the mount links and the tmpfs secret volumes (the disk volumes go with DATA/pods/<uid>). */
  async cleanup(): Promise<void> {
    await this.queue.catch(() => undefined);
    await removeLinks(this.links);
    if (this.opts.secretDir) await fsp.rm(this.opts.secretDir, { recursive: true, force: true });
  }

  private async prepare(v: Volume, desired: Sources): Promise<void> {
    if (v.hostPath) this.hostPaths.set(v.name, await prepareHostPath(v.name, v.hostPath.path, v.hostPath.type ?? ''));
    else if (v.persistentVolumeClaim) this.hostPaths.set(v.name, await this.claimed(v.name, v.persistentVolumeClaim.claimName, desired));
    else if (v.configMap || v.secret) await this.project(v, desired);
    else {
      const dir = path.join(this.root, v.name); // emptyDir
      await fsp.mkdir(dir, { recursive: true, mode: 0o755 });
      if (this.opts.owner) await fsp.chown(dir, this.opts.owner.uid, this.opts.owner.gid);
    }
  }

  /** The directory of the volume bound to a claim; throws (the pod waits) while the claim is not bound. */
  private async claimed(volume: string, claim: string, desired: Sources): Promise<string> {
    const cv = desired.volumes?.[`${this.pod.metadata.namespace ?? 'default'}/${claim}`];
    if (!cv) throw new SkiffError('SKIFF_ERR_NOT_FOUND', `volume "${volume}": persistentvolumeclaim "${claim}" is not bound to a volume on this node yet`);
    const existed = await fsp.stat(cv.path).then(() => true, () => false);
    const dir = await prepareHostPath(volume, cv.path, cv.type);
    // A volume this pod's first use creates belongs to the pod's user (as emptyDir does); data already there keeps its owner.
    if (!existed && this.opts.owner) await fsp.chown(dir, this.opts.owner.uid, this.opts.owner.gid);
    return dir;
  }

  private async project(v: Volume, desired: Sources): Promise<void> {
    const files = projectedFiles(v, this.pod.metadata.namespace ?? 'default', desired) ?? [];
    const fp = fingerprint(files);
    if (this.written.get(v.name) === fp) return;
    await writeProjected(this.dirOf(v.name), files, { dirMode: v.secret ? 0o700 : 0o755, owner: this.opts.owner });
    this.written.set(v.name, fp);
  }
}

/**
 * A handle on one running container attempt (started or adopted): `exited` is the engine's `wait`, then an
 * inspect for the exit code, finish time and error, with the OOM watch's verdict where the engine has none;
 * `stop` is the engine's stop (the image's stop signal, SIGKILL after the grace period); `release` stops
 * watching and leaves the container running (the agent stops; its next run adopts it by label); `stats` is the
 * engine's stats API (stats.ts).
 */
import type { ContainerHandle, ExitInfo } from '../types.js';
import { engineMessage, inspect, statusOf, type Engine } from './engine.js';
import { OomWatch, oomKillLogged } from './oom.js';
import { LogCopier } from './logcopy.js';
import { EngineStats } from './stats.js';

/** How often the fallback watch asks when `wait` broke (the engine restarted); 1 s. */
const POLL_MS = 1000;

/** The attempt's end from an inspect of the exited container. */
export function exitOf(state: { ExitCode?: number; OOMKilled?: boolean; Error?: string; FinishedAt?: string } | undefined, oomKilled: boolean): ExitInfo {
  if (!state) return { exitCode: 137, reason: 'Error', message: 'the container was removed before its exit status was read', finishedAt: new Date() };
  const exitCode = typeof state.ExitCode === 'number' ? state.ExitCode : 137;
  const finished = Date.parse(state.FinishedAt ?? '');
  const finishedAt = Number.isNaN(finished) || finished <= 0 ? new Date() : new Date(finished);
  // A limit kill is a SIGKILL (137); an exit 0 after a child was OOM-killed is still Completed, as in Kubernetes.
  const oom = (state.OOMKilled === true || oomKilled) && exitCode !== 0;
  const reason = oom ? 'OOMKilled' : exitCode === 0 ? 'Completed' : 'Error';
  return { exitCode, reason, ...(state.Error ? { message: state.Error } : {}), finishedAt };
}

/**
 * Resolves once the container is not running any more (the engine's wait, or polling when it fails), with the
 * exit code the wait answered (kept: a reap or a deletion may remove the container before it is inspected).
 */
async function waitGone(e: Engine, id: string, signal: AbortSignal): Promise<number | undefined> {
  try {
    const r = (await e.docker.getContainer(id).wait({ abortSignal: signal })) as { StatusCode?: unknown } | undefined;
    return typeof r?.StatusCode === 'number' ? r.StatusCode : undefined;
  } catch (err) {
    if (signal.aborted) throw err;
    if (statusOf(err) === 404) return undefined;
  }
  // The engine's answer broke (a restarted Podman service): ask until it says the container ended.
  for (;;) {
    await new Promise((r) => setTimeout(r, POLL_MS));
    if (signal.aborted) throw new Error('released');
    const i = await inspect(e, id).catch(() => 'error' as const);
    if (i !== 'error' && !i?.State?.Running) return i?.State?.ExitCode;
  }
}

/**
 * Watches a running container. `pid` is its main process on the host (for metrics and the OOM watch); its
 * output is copied into `logFile` while it runs and completely before `exited` resolves (logcopy.ts).
 */
export function watchContainer(e: Engine, id: string, pid: number | undefined, startedAt: Date, o: { watchOom: boolean; logFile?: string }): ContainerHandle & { id: string } {
  const ac = new AbortController();
  const oom = o.watchOom && pid ? new OomWatch(pid) : undefined;
  const copier = o.logFile ? new LogCopier(e, id, o.logFile) : undefined;
  void copier?.follow();
  const usage = new EngineStats(e, id);
  void usage.refresh();
  let stopMessage: string | undefined;
  const exited = (async (): Promise<ExitInfo> => {
    let waited: number | undefined;
    try {
      waited = await waitGone(e, id, ac.signal);
    } catch {
      copier?.close();
      return new Promise<ExitInfo>(() => undefined); // released: the next agent run follows it
    }
    // Removed meanwhile (a reap, the pod deleted): the wait's exit code is what there is.
    const state = (await inspect(e, id).catch(() => undefined))?.State ?? (waited !== undefined ? { ExitCode: waited } : undefined);
    // The poll saw it, or (a kill by SIGKILL it may have missed) the kernel logged it.
    const killed = (oom?.killed ?? false) || (o.watchOom && state?.ExitCode === 137 && oomKillLogged(id));
    oom?.stop();
    const info = exitOf(state, killed);
    await copier?.finish().catch(() => undefined); // removed already: what was copied is what there is
    return stopMessage && !info.message && info.reason !== 'OOMKilled' ? { ...info, message: stopMessage } : info;
  })();
  let done = false;
  void exited.then(() => (done = true));
  return {
    id,
    pid,
    startedAt,
    exited,
    stats: () => (done ? undefined : usage.read()),
    release() {
      ac.abort();
      oom?.stop();
      copier?.close();
    },
    async stop(graceMs: number) {
      if (done) return exited;
      try {
        await e.docker.getContainer(id).stop({ t: Math.ceil(graceMs / 1000) });
      } catch (err) {
        const s = statusOf(err);
        if (s !== 304 && s !== 404) stopMessage = `stop: ${engineMessage(err)}`;
      }
      return exited;
    },
  };
}

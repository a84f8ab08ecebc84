/**
 * A small in-memory control plane for rule tests of controllers and admission: a `:memory:` SQLite store, the
 * real Objects (with the master's admission plugins) and Informers, an event recorder; `settle()` waits until
 * every write reached the cache and the controllers have nothing left to do. No agents, no scheduler: a test
 * plays their part (binding pods, setting phases). (The controller harness of test/controllers/ does this with
 * a fake clock once it is on main; these tests move there then.)
 */
import { silentLogger, type KObject } from '../../protocol/index.js';
import { LimitRangeAdmission } from '../../master/admission/limitrange.js';
import { QuotaAdmission } from '../../master/admission/quota.js';
import { StorageAdmission } from '../../master/admission/storage.js';
import type { Controller, ControllerContext } from '../../master/controllers/types.js';
import { ensureLocalPathClass } from '../../master/controllers/volumes/local-path.js';
import { EventRecorder } from '../../master/events.js';
import { Informers } from '../../master/informer.js';
import { Objects } from '../../master/objects.js';
import { ServiceAdmission } from '../../master/services/allocate.js';
import { openSqliteStore } from '../../master/store/sqlite.js';

/** An in-memory world. */
export interface World {
  ctx: ControllerContext;
  objects: Objects;
  informers: Informers;
  events: EventRecorder;
  /** Starts a controller. */
  run(start: (ctx: ControllerContext) => Controller): Controller;
  /** Waits until the cache has every write and no controller has work. */
  settle(): Promise<void>;
  /** The reasons and messages of an object's events. */
  eventsOf(kind: string, namespace: string | undefined, name: string): string[];
  close(): Promise<void>;
}

/** Opens a world with the default namespace and the local-path class, admission as the master wires it. */
export async function openWorld(): Promise<World> {
  const store = await openSqliteStore(':memory:');
  const objects = new Objects(store);
  objects.addAdmission(new ServiceAdmission(objects));
  objects.addPlugin(new StorageAdmission(objects));
  objects.addPlugin(new LimitRangeAdmission(objects));
  objects.addPlugin(new QuotaAdmission(objects));
  await objects.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' }, status: { phase: 'Active' } });
  await ensureLocalPathClass(objects);
  const informers = new Informers(store, silentLogger);
  await informers.start();
  const events = new EventRecorder(silentLogger);
  const ctx: ControllerContext = { objects, informers, events, log: silentLogger };
  const controllers: Controller[] = [];
  return {
    ctx,
    objects,
    informers,
    events,
    run(start) {
      const c = start(ctx);
      controllers.push(c);
      return c;
    },
    async settle() {
      for (let i = 0; i < 200; i++) {
        await new Promise((r) => setImmediate(r));
        const rev = await store.revision();
        await informers.waitForRevision(rev);
        await Promise.all(controllers.map((c) => c.idle()));
        if ((await store.revision()) === rev) return;
      }
      throw new Error('controllers did not settle');
    },
    eventsOf: (kind, ns, name) => events.of(kind, ns, name).map((e) => `${e.reason}: ${e.message}`),
    async close() {
      for (const c of controllers) c.stop();
      informers.stop();
      await store.close();
    },
  };
}

/** A raw object as `skiff apply` would store it (validated, defaulted, admitted). */
export async function applied<T extends KObject>(w: World, raw: unknown): Promise<T> {
  return (await w.objects.apply(raw)).object as T;
}

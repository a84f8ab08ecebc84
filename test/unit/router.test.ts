/** The topic router's table (master/router.ts) with fake targets, and the start-up inbox. */
import { describe, expect, it } from 'vitest';
import type { Inbound } from '../../master/broker/index.js';
import type { Identity } from '../../master/broker/acl.js';
import { createRouter, Inbox, type RouteTargets, type Router } from '../../master/router.js';
import { encode, topics, type LogFields, type Logger } from '../../protocol/index.js';
import { eventually } from '../helpers/wait.js';

const node: Identity = { role: 'node', name: 'pi-1' };
const admin: Identity = { role: 'admin', name: 'admin' };
const msg = (topic: string, payload: unknown, identity: Identity = node): Inbound => ({
  topic,
  payload: Buffer.isBuffer(payload) ? payload : encode(payload),
  clientId: 'c1',
  identity,
  address: '127.0.0.1',
});

/** A logger that keeps its lines. */
function memoryLogger(): Logger & { lines: { level: string; msg: string; fields?: LogFields }[] } {
  const lines: { level: string; msg: string; fields?: LogFields }[] = [];
  const at = (level: string) => (m: string, fields?: LogFields) => void lines.push({ level, msg: m, fields });
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/** Fake targets recording each call as `target(args)`. */
function fakes() {
  const calls: string[] = [];
  const log = memoryLogger();
  const rec = (name: string) => (...args: unknown[]) => {
    calls.push(`${name}(${args.map((a) => (Buffer.isBuffer(a) ? 'buf' : JSON.stringify(a))).join(', ')})`);
    return Promise.resolve();
  };
  const targets = {
    api: { onRequest: rec('api.onRequest'), onApply: rec('api.onApply'), clientGone: rec('api.clientGone') },
    rpc: { onResponse: rec('rpc.onResponse'), nodeGone: rec('rpc.nodeGone') },
    tracker: { onStatus: rec('tracker.onStatus'), onLease: rec('tracker.onLease'), heard: rec('tracker.heard') },
    metrics: { onNodeMetrics: rec('metrics.onNodeMetrics'), onExternal: (name: string, p: Buffer) => (rec('metrics.onExternal')(name), p.toString() !== 'NaN') },
    joins: {
      onMessage: (m: { session: string; clientId: string; address: string }) => rec('joins.onMessage')(m.session, m.clientId, m.address),
      clientGone: rec('joins.clientGone'),
    },
    pods: rec('pods'),
    resync: rec('resync'),
    log,
  } as unknown as RouteTargets;
  return { calls, log, targets, router: createRouter(targets) };
}

const settle = () => new Promise((r) => setImmediate(r));

describe('router', () => {
  it.each([
    [topics.apiReq('c1'), { id: '1', verb: 'get' }, admin, ['api.onRequest("c1", {"role":"admin","name":"admin"}, buf, "127.0.0.1")']],
    [topics.apply, Buffer.from('kind: X'), admin, ['api.onApply("c1", {"role":"admin","name":"admin"}, buf, "127.0.0.1")']],
    [topics.joinReq('AbCdEfGhIjKlMnOpQrStUv'), { step: 'hello' }, { role: 'joiner', name: 'pi-1' }, ['joins.onMessage("AbCdEfGhIjKlMnOpQrStUv", "c1", "127.0.0.1")']],
    [topics.nodeStatus('pi-1'), { node: 'pi-1', online: true }, node, ['tracker.onStatus("pi-1", {"node":"pi-1","online":true})']],
    [topics.nodeStatus('pi-1'), { node: 'pi-1', online: false }, node, ['rpc.nodeGone("pi-1")', 'tracker.onStatus("pi-1", {"node":"pi-1","online":false})']],
    [topics.nodeLease('pi-1'), { ts: 1 }, node, ['tracker.onLease("pi-1", {"ts":1})']],
    // Every message of a node is a heartbeat too (edge-agent/telemetry.ts sends leases only when it has nothing else to say).
    [topics.nodePods('pi-1'), { pods: [] }, node, ['pods("pi-1", {"pods":[]})', 'tracker.onLease("pi-1", {})']],
    [topics.nodeResync('pi-1'), { generation: 4 }, node, ['resync("pi-1", {"generation":4})']],
    [topics.nodeRpcRes('pi-1', 'abc'), { id: 'abc', ok: true }, node, ['rpc.onResponse("pi-1", {"id":"abc","ok":true})']],
    [topics.nodeMetrics('pi-1'), { ts: 1, pods: [] }, node, ['metrics.onNodeMetrics("pi-1", {"ts":1,"pods":[]})', 'tracker.onLease("pi-1", {})']],
    [topics.metric('greenhouse-temp'), Buffer.from('21.5'), admin, ['metrics.onExternal("greenhouse-temp")']],
  ] as const)('%s goes to its handler', async (topic, payload, identity, want) => {
    const f = fakes();
    f.router.message(msg(topic, payload, identity as Identity));
    await settle();
    expect(f.calls).toEqual(want);
  });

  it.each([
    'skiff/v1/nodes/pi-1/constructor',
    'skiff/v1/nodes/pi-1/__proto__',
    'skiff/v1/events',
    topics.nodeDesired('pi-1'),
    'other/topic',
    'skiff/v1/api/c1/toString',
  ])('%s is ignored (debug line only)', async (topic) => {
    const f = fakes();
    f.router.message(msg(topic, {}));
    await settle();
    expect(f.calls).toEqual([]);
    expect(f.log.lines.map((l) => l.level)).toEqual(['debug']);
  });

  it("handles one node's messages in arrival order, each after the previous one finished", async () => {
    const f = fakes();
    const order: string[] = [];
    let release!: () => void;
    (f.targets.tracker as { onStatus: unknown }).onStatus = async () => {
      order.push('status start');
      await new Promise<void>((r) => (release = r));
      order.push('status end');
    };
    (f.targets.tracker as { onLease: unknown }).onLease = async () => void order.push('lease');
    f.router.message(msg(topics.nodeStatus('pi-1'), { node: 'pi-1', online: true }));
    f.router.message(msg(topics.nodeLease('pi-1'), { ts: 1 }));
    f.router.message(msg(topics.nodeLease('pi-2'), { ts: 1 }, { role: 'node', name: 'pi-2' }));
    await settle();
    expect(order).toEqual(['status start', 'lease']); // pi-2's lease did not wait for pi-1
    release();
    await settle();
    expect(order).toEqual(['status start', 'lease', 'status end', 'lease']);
  });

  it('logs a bad payload and goes on with the next message of that node', async () => {
    const f = fakes();
    f.router.message(msg(topics.nodeLease('pi-1'), Buffer.from([0xc1])));
    f.router.message(msg(topics.nodeRpcRes('pi-1', 'x'), Buffer.from('not json')));
    f.router.message(msg(topics.metric('m'), Buffer.from('NaN'), admin));
    f.router.message(msg(topics.nodeLease('pi-1'), { ts: 2 }));
    await settle();
    // The lease is handled as it is read; the external metric is bulk, queued (router.ts).
    expect(f.calls).toEqual(['tracker.onLease("pi-1", {"ts":2})', 'metrics.onExternal("m")']);
    // A refused external metric is logged by the metrics store, once a minute at most (a sensor in a loop must not flood the log).
    expect(f.log.lines.filter((l) => l.level === 'warn').map((l) => l.msg).sort()).toEqual(['bad rpc answer', 'message handling failed']);
  });

  it('a client that goes away ends its streams at once, its join exchange after its queued messages; a node leaving is logged at info', async () => {
    const f = fakes();
    f.router.clientGone('agent-pi-1', node);
    f.router.clientGone('cli-1', admin);
    expect(f.calls).toEqual(['api.clientGone("agent-pi-1")', 'api.clientGone("cli-1")']);
    // The join exchanges end in the bulk queue's turns: on a loaded machine a turn's budget can run out between them.
    await eventually(() => f.calls.length >= 4, 'both join exchanges ended', 5_000, 1);
    expect(f.calls).toEqual(['api.clientGone("agent-pi-1")', 'api.clientGone("cli-1")', 'joins.clientGone("agent-pi-1")', 'joins.clientGone("cli-1")']);
    expect(f.log.lines.map((l) => `${l.level} ${l.msg}`)).toEqual(['info node disconnected', 'debug client disconnected']);
  });
});

describe('heard (a lease read off the connection, before any queue)', () => {
  it('tells the tracker at once, with the lease when there is one; an inbox not yet routing drops it and says it is not handled (the lease message follows)', () => {
    const f = fakes();
    f.router.heard('pi-1');
    f.router.heard('pi-1', { intervalMs: 10_000 });
    expect(f.calls).toEqual(['tracker.heard("pi-1", )', 'tracker.heard("pi-1", {"intervalMs":10000})']);
    const inbox = new Inbox(memoryLogger());
    const seen: string[] = [];
    expect(inbox.heard('pi-2')).toBe(false);
    inbox.open({ message: () => {}, clientGone: () => {}, heard: (n) => (seen.push(n), true) });
    expect(inbox.heard('pi-3')).toBe(true);
    expect(seen).toEqual(['pi-3']);
  });
});

describe('Inbox', () => {
  const recorder = () => {
    const seen: string[] = [];
    const r: Router = { message: (m) => void seen.push(m.topic), clientGone: (id) => void seen.push(`gone ${id}`), heard: (n) => (seen.push(`heard ${n}`), false) };
    return { seen, r };
  };

  it('keeps what arrives before routing starts, then delivers it in order, then passes through', () => {
    const inbox = new Inbox(memoryLogger());
    const { seen, r } = recorder();
    inbox.message(msg('a', {}));
    inbox.clientGone('c9', admin);
    expect(seen).toEqual([]);
    inbox.open(r);
    inbox.message(msg('b', {}));
    expect(seen).toEqual(['a', 'gone c9', 'b']);
  });

  it('drops (and counts) what exceeds its bound during start-up, and everything after close', () => {
    const log = memoryLogger();
    const inbox = new Inbox(log);
    const { seen, r } = recorder();
    for (let i = 0; i < 10_005; i++) inbox.message(msg('t', {}));
    inbox.open(r);
    expect(seen).toHaveLength(10_000);
    expect(log.lines).toEqual([{ level: 'warn', msg: 'messages dropped during start-up', fields: { dropped: 5 } }]);
    inbox.close();
    inbox.message(msg('late', {}));
    expect(seen).toHaveLength(10_000);
  });
});

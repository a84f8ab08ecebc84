/**
 * Issue 9, item 7: anyone logged in could knock an agent offline by reusing its client id (`skiff-agent-n1`) with
 * a view token or the join token: the broker dropped the agent and fired its Will; in a loop the node went
 * NotReady and its pods were evicted. Replayed against a real master and a real agent: every such CONNECT is
 * refused (CONNACK 5), the agent never disconnects, and its node stays Ready. A client id belongs to one identity.
 */
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectKey } from '../../protocol/join.js';
import { joinSecret } from '../../protocol/join-token.js';
import type { Node } from '../../protocol/index.js';
import { startCluster, type TestCluster } from '../helpers/cluster.js';
import { rawConnect } from './helpers.js';

describe('a client id belongs to one identity (issue 9, item 7)', () => {
  let c: TestCluster;
  let viewSecret: string;
  let otherSecret: string;

  beforeAll(async () => {
    c = await startCluster(['n1']);
    viewSecret = (await c.api.request<{ token: string }>('token', { action: 'create', name: 'viewer', access: 'view' })).token;
    otherSecret = (await c.api.request<{ token: string }>('token', { action: 'create', name: 'other', access: 'edit' })).token;
  });
  afterAll(async () => {
    await c?.stop();
  });

  it("a view token or the join token reusing the agent's client id is refused; the agent stays connected and Ready", async () => {
    const agent = c.agents[0];
    const readyOf = async () => (await c.api.request<Node>('get', { kind: 'Node', name: 'n1' })).status?.conditions?.find((x) => x.type === 'Ready');
    const before = await readyOf();
    let drops = 0;
    agent.on('disconnected', () => drops++);
    const port = c.master.mqttPort;
    for (let i = 0; i < 10; i++) {
      expect(await rawConnect(port, { clientId: 'skiff-agent-n1', username: 'viewer', password: viewSecret })).toBe(5);
      expect(await rawConnect(port, { clientId: 'skiff-agent-n1', username: 'n1', password: connectKey(joinSecret(c.master.joinToken)) })).toBe(5);
      expect(await rawConnect(port, { clientId: 'skiff-agent-n1', username: 'admin', password: c.master.adminToken })).toBe(5);
    }
    expect(drops).toBe(0);
    expect(agent.connected).toBe(true);
    const after = await readyOf();
    expect(after?.status).toBe('True');
    expect(after?.lastTransitionTime).toBe(before?.lastTransitionTime); // Ready never flipped during the attack
    const describe = await c.api.request<{ events: { reason: string }[] }>('describe', { kind: 'Node', name: 'n1' });
    expect(describe.events.map((e) => e.reason)).not.toContain('NodeNotReady');
  });

  it("another user's connected client id is refused too; the same identity may replace its own stale session", async () => {
    const owner = mqtt.connect(c.master.url, { protocolVersion: 4, clientId: 'dash-1', username: 'viewer', password: viewSecret, reconnectPeriod: 0 });
    await new Promise((r) => owner.once('connect', r));
    let ownerClosed = false;
    owner.on('close', () => (ownerClosed = true));
    expect(await rawConnect(c.master.mqttPort, { clientId: 'dash-1', username: 'other', password: otherSecret })).toBe(5);
    expect(ownerClosed).toBe(false);
    // The same identity reconnecting (a half-open old connection) takes its id over, as MQTT says [MQTT-3.1.4-2].
    expect(await rawConnect(c.master.mqttPort, { clientId: 'dash-1', username: 'viewer', password: viewSecret })).toBe(0);
    owner.end(true);
  });
});

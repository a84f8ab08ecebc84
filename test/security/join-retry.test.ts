/**
 * A retried join (master/nodes/join-retry.ts): an agent whose join result was lost opens another exchange for the
 * same node with the same ephemeral key, and gets a fresh credential for that node — not `already exists`; the
 * credential it never read stops working. Another joiner (another key) claiming the node stays refused. Exchanges
 * racing each other for one node are admitted one after the other. On the embedded broker here; on Mosquitto in
 * test/ha/sqlite-broker.test.ts.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMaster, type Master } from '../../master/index.js';
import { testEngine } from '../helpers/cluster.js';
import { ephemeralKey, joinExchange } from '../helpers/join-exchange.js';
import { tempDir } from '../helpers/wait.js';

/** True when the node's credential logs in to the broker. */
async function logsIn(url: string, node: string, credential: string): Promise<boolean> {
  try {
    const c = await mqtt.connectAsync(url, { protocolVersion: 4, username: node, password: credential, clientId: `skiff-agent-${node}`, reconnectPeriod: 0 });
    await c.endAsync(true);
    return true;
  } catch {
    return false;
  }
}

describe('a retried join', () => {
  let master: Master;
  let dir: string;

  beforeAll(async () => {
    dir = await tempDir();
    master = await startMaster({ dataDir: join(dir, 'm'), mqttPort: 0, httpPort: -1, mqttHost: '127.0.0.1', quiet: true, engine: testEngine });
  });
  afterAll(async () => {
    await master?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('the same joiner gets a fresh credential for its node; the unread one is replaced', async () => {
    const key = ephemeralKey();
    const first = await joinExchange(master.url, master.joinToken, 'retry-a', key);
    expect(first.ok).toBe(true);
    const again = await joinExchange(master.url, master.joinToken, 'retry-a', key);
    expect(again).toMatchObject({ ok: true });
    if (!first.ok || !again.ok) return;
    expect(again.credential).not.toBe(first.credential);
    expect(await logsIn(master.url, 'retry-a', again.credential)).toBe(true);
    expect(await logsIn(master.url, 'retry-a', first.credential)).toBe(false);
    expect(master.informers.list('Node').filter((n) => n.metadata.name === 'retry-a')).toHaveLength(1);
  });

  it('another joiner claiming the node is refused, and the node keeps its credential', async () => {
    const key = ephemeralKey();
    const mine = await joinExchange(master.url, master.joinToken, 'retry-b', key);
    const other = await joinExchange(master.url, master.joinToken, 'retry-b', ephemeralKey());
    expect(other).toMatchObject({ ok: false, code: 'SKIFF_ERR_JOIN_REJECTED' });
    expect((other as { message: string }).message).toMatch(/node "retry-b" has already joined/);
    expect(mine.ok && (await logsIn(master.url, 'retry-b', mine.credential))).toBe(true);
  });

  it('exchanges of one joiner racing each other are all admitted, one after the other', async () => {
    const key = ephemeralKey();
    const outcomes = await Promise.all([1, 2, 3].map(() => joinExchange(master.url, master.joinToken, 'retry-c', key)));
    expect(outcomes.map((o) => o.ok)).toEqual([true, true, true]);
    // The last one admitted holds the credential: exactly one of the three logs in.
    const works = await Promise.all(outcomes.map((o) => o.ok && logsIn(master.url, 'retry-c', o.credential)));
    expect(works.filter(Boolean)).toHaveLength(1);
  });
});

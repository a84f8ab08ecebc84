/**
 * Simulated agents for the reconnect-storm bench: each is the agent's own MQTT session (edge-agent/session.ts:
 * Will, jittered exponential back-off) doing what the agent does on every connect — retained online status,
 * subscribe to its desired set — plus the lease heartbeat. Joins use the agent's join code. No pods run.
 */
import { mkdirSync } from 'node:fs';
import { join as joinPath } from 'node:path';
import { encode } from '../protocol/codec.js';
import type { NodeStatusMessage } from '../protocol/messages.js';
import { topics } from '../protocol/topics.js';
import { resolveOptions } from '../edge-agent/config.js';
import { onlineStatus } from '../edge-agent/facts.js';
import { join } from '../edge-agent/join.js';
import type { Logger } from '../edge-agent/log.js';
import { Session } from '../edge-agent/session.js';

const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/** One simulated agent: connected and subscribed, with the time it last came back. */
export interface SimAgent {
  name: string;
  session: Session;
  /** ms since epoch of the last completed connect (status sent and desired subscribed). */
  backAt: number;
  stop(): Promise<void>;
}

/** Joins `count` simulated nodes (`concurrency` at a time) and connects them; resolves when all are up. */
export async function startSimAgents(o: { url: string; joinToken: string; count: number; dir: string; concurrency?: number; prefix?: string }): Promise<SimAgent[]> {
  const names = Array.from({ length: o.count }, (_, i) => `${o.prefix ?? 'sim'}-${i}`);
  const agents: SimAgent[] = [];
  const queue = [...names];
  const worker = async () => {
    for (let name = queue.shift(); name; name = queue.shift()) agents.push(await startOne(o.url, o.joinToken, name, joinPath(o.dir, name)));
  };
  await Promise.all(Array.from({ length: o.concurrency ?? 25 }, worker));
  return agents;
}

async function startOne(url: string, token: string, name: string, dataDir: string): Promise<SimAgent> {
  mkdirSync(dataDir, { recursive: true });
  const cfg = resolveOptions({ master: url, token, name, dataDir, address: '127.0.0.1', logger: quiet });
  const { credential } = await join(cfg, token);
  const session = new Session({
    url,
    clientId: `skiff-agent-${name}`,
    username: name,
    keepaliveSeconds: cfg.keepaliveSeconds,
    will: { topic: topics.nodeStatus(name), payload: encode({ node: name, online: false } satisfies NodeStatusMessage) },
    reconnect: cfg.reconnect,
    log: quiet,
  });
  const agent: SimAgent = {
    name,
    session,
    backAt: 0,
    async stop() {
      clearInterval(lease);
      await session.stop();
    },
  };
  const status = encode(onlineStatus(cfg, ['process']));
  const up = new Promise<void>((resolve) => {
    session.on('connect', async () => {
      session.publish(topics.nodeStatus(name), status, 1, true);
      await session.subscribe([topics.nodeDesired(name)]).catch(() => undefined);
      agent.backAt = Date.now();
      resolve();
    });
  });
  const lease = setInterval(() => session.publish(topics.nodeLease(name), encode({ ts: Date.now() }), 0), cfg.leaseIntervalMs);
  session.start(credential);
  await up;
  return agent;
}

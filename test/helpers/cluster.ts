/** An in-process cluster for integration tests: a master on an ephemeral port and agents over real TCP. */
import { join } from 'node:path';
import { rm } from 'node:fs/promises';
import { startMaster, type Master } from '../../master/index.js';
import { startAgent, type Agent } from '../../edge-agent/index.js';
import type { AgentOptions } from '../../edge-agent/config.js';
import { connectApi } from '../../cli/client.js';
import type { Api } from '../../cli/types.js';
import { isReady, type KObject, type Node, type Pod } from '../../protocol/index.js';
import { eventually, tempDir } from './wait.js';

/** The engine the in-process masters use: SKIFF_TEST_ENGINE=reference runs the suite on the TS twin. */
export const testEngine = (process.env.SKIFF_TEST_ENGINE === 'reference' ? 'reference' : 'wasm') as 'wasm' | 'reference';

/** A silent logger for agents (their logs would drown the test output). */
export const quietLogger = { info() {}, warn() {}, error() {}, debug() {} };

/** A running test cluster. */
export interface TestCluster {
  master: Master;
  agents: Agent[];
  api: Api;
  dir: string;
  /** Adds an agent named `name`. */
  addAgent(name: string, labels?: Record<string, string>): Promise<Agent>;
  pods(selector?: string): Promise<Pod[]>;
  nodes(): Promise<Node[]>;
  apply(manifest: string): Promise<unknown>;
  stop(): Promise<void>;
}

/** Starts a master and `agentNames.length` agents; waits until every node is Ready. */
export async function startCluster(
  agentNames: string[],
  masterOptions: Parameters<typeof startMaster>[0] = {},
  /** Extra agent options for every agent (e.g. a short metricsIntervalMs for autoscaling tests, a short crashLoop back-off). */
  agentOptions: Partial<Pick<AgentOptions, 'metricsIntervalMs' | 'crashLoop'>> = {},
): Promise<TestCluster> {
  const dir = await tempDir('skiff-cluster-');
  // Privileged by default: most tests run process pods (and some hostPath volumes) as the agent's user, which the
  // baseline default refuses; the Pod Security tests (test/security/pod-security.test.ts) set their levels.
  const master = await startMaster({ dataDir: join(dir, 'master'), mqttPort: 0, httpPort: -1, mqttHost: '127.0.0.1', quiet: true, engine: testEngine, podSecurityDefault: 'privileged', ...masterOptions });
  const api = await connectApi({ server: master.url, user: 'admin', token: master.adminToken, timeoutMs: 10_000 });
  const agents: Agent[] = [];
  const list = async <T extends KObject>(kind: string, labelSelector?: string) =>
    ((await api.request<{ items: T[] }>('list', { kind, allNamespaces: true, ...(labelSelector ? { labelSelector } : {}) })).items);
  const cluster: TestCluster = {
    master,
    agents,
    api,
    dir,
    async addAgent(name, labels) {
      const agent = await startAgent({
        master: master.url,
        token: master.joinToken,
        name,
        dataDir: join(dir, name),
        address: '127.0.0.1',
        labels,
        leaseIntervalMs: 500,
        logger: quietLogger,
        ...agentOptions,
      });
      agents.push(agent);
      await eventually(async () => (await list<Node>('Node')).find((n) => n.metadata.name === name && isReady(n)), `node ${name} Ready`);
      return agent;
    },
    pods: (selector) => list<Pod>('Pod', selector),
    nodes: () => list<Node>('Node'),
    apply: (manifest) => api.request('apply', { manifest }),
    async stop() {
      await api.close().catch(() => undefined);
      await Promise.all(agents.map((a) => a.stop({ stopPods: true }).catch(() => undefined)));
      await master.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
  for (const name of agentNames) await cluster.addAgent(name);
  return cluster;
}

/** True when a pod is Running with every container ready; is a process alive (zombies count as dead). */
export { runningReady as isRunningReady, alive } from '../../bench/cluster-selfheal.js';

export { eventually };

/** The candidate's side of a trial (launch.ts): commit once this agent has rejoined the master and applied its desired set. */
import type { Agent } from '../agent.js';

/**
 * Resolves once the agent is connected and has applied a desired set from the master (its pods adopted), then
 * commits the trial (the candidate becomes the bundle) and republishes the node status with the new
 * `AgentUpgrade` condition. A trial that never gets there is rolled back by the launching bundle's deadline.
 */
export async function waitUntilRejoined(agent: Agent, trial: { version: string; commit(): Promise<void> }): Promise<void> {
  await new Promise<void>((resolve) => {
    const check = () => {
      if (!agent.connected || !agent.fromMaster) return;
      agent.off('connected', check);
      agent.off('desired', check);
      resolve();
    };
    agent.on('connected', check);
    agent.on('desired', check);
    check();
  });
  try {
    await trial.commit();
    agent.refreshStatus();
  } catch (err) {
    process.stderr.write(`skiff-agent: could not commit the upgrade to ${trial.version}: ${(err as Error).message}\n`);
  }
}

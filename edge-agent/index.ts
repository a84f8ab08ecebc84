/** edge-agent/: the Skiff node agent. This is the folder's one public entry. */
export { Agent, startAgent, type AgentEvents, type StopOptions } from './agent.js';
export type { AgentOptions } from './config.js';
export type { Logger } from './log.js';
export type { RestartEvent } from './pods/container.js';

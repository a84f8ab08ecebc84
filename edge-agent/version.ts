/** The agent's version, reported in its node facts. */
export const AGENT_VERSION = '0.1.0';

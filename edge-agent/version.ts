/** The agent's version, reported in its node facts: set by the bundle build (scripts/build-agent.mjs), else package.json's. */
import { skiffVersion } from '../protocol/version.js';

/** Replaced by the bundle build (esbuild `define`); undeclared (so `typeof` is 'undefined') when run from dist/. */
declare const __SKIFF_AGENT_VERSION__: string | undefined;
/** True in the bundle (esbuild `define`): the agent then runs from one file it may replace (upgrade). */
declare const __SKIFF_AGENT_BUNDLE__: boolean | undefined;

/** package.json's version; `0.0.0-unknown` for a copy of dist/ without it. */
function packageVersion(): string {
  try {
    return skiffVersion();
  } catch {
    return '0.0.0-unknown';
  }
}

/** The agent's version, e.g. `0.1.0`. */
export const AGENT_VERSION: string = typeof __SKIFF_AGENT_VERSION__ === 'string' ? __SKIFF_AGENT_VERSION__ : packageVersion();

/** True when this code runs from the one-file bundle (dist/skiff-agent.mjs), false from a checkout's dist/. */
export const IS_BUNDLE: boolean = typeof __SKIFF_AGENT_BUNDLE__ === 'boolean' && __SKIFF_AGENT_BUNDLE__;

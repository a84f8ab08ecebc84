/** The client's version string as kubectl prints it (`v0.1.0`); the package lookup lives in protocol/version.ts. */
import { skiffVersion } from '../protocol/index.js';

export { packageRoot } from '../protocol/index.js';

/** `v0.1.0`. */
export function clientVersion(): string {
  return 'v' + skiffVersion();
}

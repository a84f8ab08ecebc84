/**
 * How an agent bundle (`npm run build:agent` → dist/skiff-agent.mjs) declares itself: a header line near the top,
 * `// skiff-agent-bundle {"version":"0.2.0","format":1}`, that the master reads without running the file
 * (`skiff nodes upgrade --bundle FILE` stores it by sha256 and sends it to the agents with this version).
 * The bundle's own code reports the same version (edge-agent/version.ts, set by the build).
 */

/** The header's prefix; the JSON after it is a BundleHeader. */
export const BUNDLE_HEADER_PREFIX = '// skiff-agent-bundle ';

/** The one bundle format this code knows: a single ESM file run with `node FILE join ...`. */
export const BUNDLE_FORMAT = 1;

/** What a bundle's header says. */
export interface BundleHeader {
  /** The agent's version string, e.g. `0.2.0` or `0.2.0-rc.1+arm` (1–64 of A–Z a–z 0–9 . _ + -). */
  version: string;
  format: number;
}

/** A version string an agent may carry: it becomes a label value and a log word, so it is narrow. */
export const AGENT_VERSION_PATTERN = /^[0-9A-Za-z][0-9A-Za-z._+-]{0,63}$/;

/** The header line for a bundle of `version`. */
export function bundleHeaderLine(version: string): string {
  return `${BUNDLE_HEADER_PREFIX}${JSON.stringify({ version, format: BUNDLE_FORMAT } satisfies BundleHeader)}`;
}

/** How far into the file the header may be (after a shebang and a comment or two). */
export const BUNDLE_HEADER_WINDOW = 4096;

/**
 * Reads the header from the start of a bundle; throws a message that names what is wrong (not an agent bundle,
 * a bad version, a format this master does not know).
 */
export function parseBundleHeader(bytes: Uint8Array): BundleHeader {
  const head = Buffer.from(bytes.subarray(0, BUNDLE_HEADER_WINDOW)).toString('utf8');
  const line = head.split('\n').find((l) => l.startsWith(BUNDLE_HEADER_PREFIX));
  if (!line) throw new Error(`not a skiff-agent bundle: no "${BUNDLE_HEADER_PREFIX.trim()}" line in its first ${BUNDLE_HEADER_WINDOW} bytes (build one with npm run build:agent)`);
  let h: unknown;
  try {
    h = JSON.parse(line.slice(BUNDLE_HEADER_PREFIX.length));
  } catch {
    throw new Error('skiff-agent bundle header: not JSON');
  }
  const { version, format } = (h ?? {}) as Partial<BundleHeader>;
  if (typeof version !== 'string' || !AGENT_VERSION_PATTERN.test(version)) throw new Error(`skiff-agent bundle header: version: must be 1–64 of A–Z a–z 0–9 . _ + - (starting with a letter or digit), got ${JSON.stringify(version)}`);
  if (format !== BUNDLE_FORMAT) throw new Error(`skiff-agent bundle header: format: this master knows format ${BUNDLE_FORMAT}, got ${JSON.stringify(format)}`);
  return { version, format };
}

/**
 * Finding the container engine: the first Docker Engine API endpoint that answers `/_ping` and `/version`, in
 * this order — `--container-endpoint`, `$DOCKER_HOST`, /var/run/docker.sock, /run/podman/podman.sock. Docker,
 * Podman's API service and balenaEngine all speak this API. The agent advertises the `container` runtime only
 * when one answers, and reports it as kubectl's CONTAINER-RUNTIME column shows it: `docker://24.0.7`,
 * `podman://4.3.1`. Plain HTTP over the socket (no dockerode yet): the probe runs at every agent start and the
 * client library is loaded only when an engine is there.
 */
import http from 'node:http';

/** Where the engine listens: a Unix socket, or host:port (`tcp://` in DOCKER_HOST; TLS is not supported). */
export type EndpointAddress = { socketPath: string } | { host: string; port: number };

/** An engine that answered. */
export interface EngineInfo {
  address: EndpointAddress;
  /** `unix:///run/podman/podman.sock` or `tcp://host:port`, as given or found. */
  url: string;
  /** docker | podman (balenaEngine and others that call themselves Docker report docker). */
  engine: 'docker' | 'podman';
  version: string;
  /** The Docker API version the engine speaks (podman: the compat API's), e.g. 1.41. */
  apiVersion: string;
}

/** The default endpoints tried after the option and DOCKER_HOST. */
export const defaultEndpoints = ['unix:///var/run/docker.sock', 'unix:///run/podman/podman.sock'];

/** Parses `unix:///path`, `/path`, `tcp://host:port`; undefined for anything else (ssh:// is not supported). */
export function parseEndpoint(url: string): EndpointAddress | undefined {
  if (url.startsWith('unix://')) return url.length > 7 ? { socketPath: url.slice(7) } : undefined;
  if (url.startsWith('/')) return { socketPath: url };
  const m = /^(?:tcp|http):\/\/([^/:]+|\[[^\]]+\]):(\d{1,5})\/?$/.exec(url);
  if (m && Number(m[2]) > 0 && Number(m[2]) < 65536) return { host: m[1].replace(/^\[|\]$/g, ''), port: Number(m[2]) };
  return undefined;
}

/** One GET against the engine; rejects on anything but 200 within `timeoutMs`. */
function get(address: EndpointAddress, path: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.get({ ...address, path, timeout: timeoutMs, headers: { host: 'docker' } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        body += c;
        if (body.length > 1 << 20) req.destroy(new Error('answer too large'));
      });
      res.on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`${path}: HTTP ${res.statusCode}`))));
    });
    req.on('timeout', () => req.destroy(new Error(`${path}: no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
  });
}

/** Reads the engine's name and version from a `/version` answer (Podman lists a "Podman Engine" component). */
export function engineOf(version: unknown): { engine: 'docker' | 'podman'; version: string; apiVersion: string } {
  const v = (version && typeof version === 'object' ? version : {}) as { Version?: unknown; ApiVersion?: unknown; Components?: { Name?: unknown; Version?: unknown }[] };
  const components = Array.isArray(v.Components) ? v.Components : [];
  const podman = components.find((c) => typeof c?.Name === 'string' && /podman/i.test(c.Name));
  const text = (x: unknown, dflt: string) => (typeof x === 'string' && x && x.length <= 64 ? x : dflt);
  return podman
    ? { engine: 'podman', version: text(podman.Version, text(v.Version, 'unknown')), apiVersion: text(v.ApiVersion, '1.41') }
    : { engine: 'docker', version: text(v.Version, 'unknown'), apiVersion: text(v.ApiVersion, '1.41') };
}

/** Asks one endpoint; undefined (and why) when it does not answer as an engine. */
export async function probeEndpoint(url: string, timeoutMs = 5000): Promise<EngineInfo | { error: string }> {
  const address = parseEndpoint(url);
  if (!address) return { error: `${url}: not an endpoint (expected unix:///path/to.sock or tcp://host:port)` };
  try {
    const pong = await get(address, '/_ping', timeoutMs);
    if (pong.trim() !== 'OK') return { error: `${url}: /_ping answered ${JSON.stringify(pong.slice(0, 40))}, not OK` };
    const info = engineOf(JSON.parse(await get(address, '/version', timeoutMs)));
    return { address, url, ...info };
  } catch (err) {
    return { error: `${url}: ${(err as Error).message}` };
  }
}

/** The endpoints to try, in order: the option, DOCKER_HOST, the defaults (each once). */
export function candidateEndpoints(option: string | undefined, env: Record<string, string | undefined> = process.env): string[] {
  if (option) return [option]; // an explicit choice is the only one: a different engine answering would surprise
  return [...new Set([env.DOCKER_HOST, ...defaultEndpoints].filter((x): x is string => !!x))];
}

/** The first engine that answers, or the reasons none did. */
export async function findEngine(option: string | undefined, env: Record<string, string | undefined> = process.env): Promise<EngineInfo | { errors: string[] }> {
  const errors: string[] = [];
  for (const url of candidateEndpoints(option, env)) {
    const r = await probeEndpoint(url);
    if ('error' in r) errors.push(r.error);
    else return r;
  }
  return { errors };
}

/** `podman://4.3.1`: what the node status carries and `get nodes -o wide` shows. */
export function runtimeVersion(e: Pick<EngineInfo, 'engine' | 'version'>): string {
  return `${e.engine}://${e.version}`;
}

/**
 * `--broker URL`: the external MQTT broker the masters use instead of the embedded one (docs/ha.md).
 *
 *     mqtt://USER@HOST:PORT?password-file=FILE            the password read from FILE (what skiff broker-config prints)
 *     mqtts://USER:PASSWORD@HOST:PORT?ca-file=CA.pem       TLS, the broker's certificate checked against CA.pem
 *
 * A password in the URL shows in `ps`; `password-file` keeps it out. Neither is ever logged (describeBroker).
 */
import { readFileSync } from 'node:fs';
import { SkiffError } from '../../protocol/index.js';

/** A parsed --broker URL. */
export interface BrokerLocation {
  /** `mqtt://HOST:PORT` or `mqtts://HOST:PORT`, without credentials. */
  url: string;
  tls: boolean;
  host: string;
  port: number;
  username: string;
  password: string;
  /** PEM of the CA the broker's certificate must chain to (mqtts), when given. */
  ca?: string;
}

function bad(rule: string): never {
  throw new SkiffError('SKIFF_ERR_VALIDATION', `--broker: ${rule}`);
}

/** Parses and checks a --broker URL, reading its password and CA files; errors name the part and the rule. */
export function parseBrokerUrl(text: string): BrokerLocation {
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    bad('must be a URL such as mqtt://skiff-master@HOST:1883?password-file=FILE');
  }
  if (u.protocol !== 'mqtt:' && u.protocol !== 'mqtts:') bad(`scheme must be mqtt:// or mqtts://, got "${u.protocol}"`);
  const tls = u.protocol === 'mqtts:';
  if (!u.hostname) bad('needs a host');
  const port = u.port ? Number(u.port) : tls ? 8883 : 1883;
  const username = decodeURIComponent(u.username);
  if (!username) bad('needs the masters\' broker account as its user name (mqtt://USER@HOST:PORT)');
  for (const k of u.searchParams.keys()) if (k !== 'password-file' && k !== 'ca-file') bad(`unknown parameter "${k}": password-file and ca-file are known`);
  const pwFile = u.searchParams.get('password-file');
  if (u.password && pwFile) bad('give the password in the URL or in password-file, not both');
  const password = pwFile ? readSecretFile(pwFile, 'password-file') : decodeURIComponent(u.password);
  if (!password) bad('needs a password: mqtt://USER@HOST:PORT?password-file=FILE (or USER:PASSWORD@)');
  const caFile = u.searchParams.get('ca-file');
  if (caFile && !tls) bad('ca-file is for mqtts:// only');
  const ca = caFile ? readSecretFile(caFile, 'ca-file') : undefined;
  return { url: `${u.protocol}//${u.host}`, tls, host: u.hostname.replace(/^\[|\]$/g, ''), port, username, password, ...(ca ? { ca } : {}) };
}

function readSecretFile(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch (err) {
    bad(`${what}: cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/** The URL as logs show it: no password, the account named. */
export function describeBroker(b: BrokerLocation): string {
  return `${b.url} as ${b.username}`;
}

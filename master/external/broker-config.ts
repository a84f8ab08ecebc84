/**
 * `skiff broker-config mosquitto --dir D [--port P] [--bind ADDRESS] [--plugin PATH] [--tls --cluster-dir DATA
 * [--tls-san NAME,...]]`: a Mosquitto configuration for the masters' external broker (docs/ha.md). Writes, 0600 in a
 * 0700 dir:
 * - `D/mosquitto.conf`: one listener (over TLS with --tls, its certificate signed by the cluster CA: broker-tls.ts),
 *   no anonymous access, persistence in D (retained desired sets and node statuses survive a broker restart), and
 *   the dynamic-security plugin with its file;
 * - `D/dynamic-security.json`: the masters' account `skiff-master` (role roles.ts `masterRole`: the Skiff tree
 *   and dynsec administration), its password hashed as the plugin hashes (PBKDF2-HMAC-SHA512, 12-byte salt,
 *   64-byte key, base64 — what `mosquitto_ctrl dynsec init` writes), and every other access denied by default;
 * - `D/master.password`: that password, which the `--broker` URL references (`?password-file=`) rather than
 *   carries, so it shows in no `ps` listing and no shell history.
 * The last line printed is that `--broker` URL. Run `mosquitto -c D/mosquitto.conf`, then the masters with it.
 */
import { pbkdf2Sync, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { resolve, join } from 'node:path';
import { parseArgs } from 'node:util';
import { tlsConfLines, writeBrokerTls, type BrokerTlsFiles } from './broker-tls.js';
import { masterRole, MASTER_ROLE } from './roles.js';

/** Where Debian, Ubuntu, Alpine and source builds put the plugin. */
const pluginPaths = [
  '/usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so',
  '/usr/lib/aarch64-linux-gnu/mosquitto_dynamic_security.so',
  '/usr/lib/arm-linux-gnueabihf/mosquitto_dynamic_security.so',
  '/usr/lib/mosquitto_dynamic_security.so',
  '/usr/local/lib/mosquitto_dynamic_security.so',
];

/** The masters' broker account. */
export const MASTER_ACCOUNT = 'skiff-master';

/** The plugin's password record: PBKDF2-HMAC-SHA512 over a 12-byte salt, 64 bytes (mosquitto 2.0 dynsec `pw__hash`). */
export function dynsecPassword(password: string, iterations = 101, salt = randomBytes(12)): { password: string; salt: string; iterations: number } {
  // 101 is mosquitto_ctrl's own count; the passwords hashed here are 256-bit random secrets, not guessable words.
  return { password: pbkdf2Sync(password, salt, iterations, 64, 'sha512').toString('base64'), salt: salt.toString('base64'), iterations };
}

/** The dynamic-security file: the masters' account and role, everything else denied. */
export function dynsecFile(password: string): object {
  return {
    clients: [{ username: MASTER_ACCOUNT, textName: 'Skiff masters', ...dynsecPassword(password), roles: [{ rolename: MASTER_ROLE }] }],
    roles: [masterRole()],
    // Every account's rights come from its role (roles.ts); a client receives only what its role lets it read.
    defaultACLAccess: { publishClientSend: false, publishClientReceive: false, subscribe: false, unsubscribe: true },
  };
}

/** mosquitto.conf for one listener. */
export function mosquittoConf(o: { dir: string; port: number; bind: string; plugin: string; user: string; tls?: Pick<BrokerTlsFiles, 'cafile' | 'certfile' | 'keyfile'> }): string {
  return [
    '# Written by skiff broker-config mosquitto (docs/ha.md).',
    // Started as root, mosquitto drops to the user "mosquitto", which cannot read these 0600 files: it keeps their
    // owner instead. To run it as another user, chown the directory and change this line.
    `user ${o.user}`,
    'per_listener_settings false',
    `listener ${o.port} ${o.bind}`,
    ...(o.tls ? tlsConfLines(o.tls) : []),
    'allow_anonymous false',
    'persistence true',
    `persistence_location ${o.dir}/`,
    // Agents' retained statuses and desired sets are small; a reconnect storm queues many QoS 1 messages.
    'max_queued_messages 10000',
    `plugin ${o.plugin}`,
    `plugin_opt_config_file ${join(o.dir, 'dynamic-security.json')}`,
    '',
  ].join('\n');
}

function writePrivate(path: string, text: string): void {
  writeFileSync(path + '.tmp', text, { mode: 0o600 });
  renameSync(path + '.tmp', path);
}

const usage = `Usage: skiff broker-config mosquitto --dir DIR [--port PORT] [--bind ADDRESS] [--plugin PATH]
                                     [--tls --cluster-dir DATA_DIR [--tls-san NAME[,NAME...]]]

Writes DIR/mosquitto.conf, DIR/dynamic-security.json (the masters' account) and DIR/master.password, then
prints the --broker URL for "skiff master" as its last line. Start the broker with: mosquitto -c DIR/mosquitto.conf

  --tls            the listener speaks TLS (port default 8883), with a certificate signed by the cluster CA
  --cluster-dir D  the first master's data dir: its cluster CA (D/tls, made now if that master has not started yet)
  --tls-san NAMES  more DNS names or addresses the broker is reached at (this host's name, localhost and the
                   loopback addresses are always in; so is --bind unless it is 0.0.0.0 or ::)
`;

/** Entry of `skiff broker-config`; resolves with the exit code. */
export async function main(argv: string[], out: (s: string) => void, err: (s: string) => void): Promise<number> {
  let v;
  const options = { dir: { type: 'string' }, port: { type: 'string' }, bind: { type: 'string' }, plugin: { type: 'string' }, tls: { type: 'boolean' }, 'cluster-dir': { type: 'string' }, 'tls-san': { type: 'string', multiple: true }, help: { type: 'boolean', short: 'h' } } as const;
  let positionals: string[];
  try {
    ({ values: v, positionals } = parseArgs({ args: argv, options, allowPositionals: true, strict: true }));
  } catch (e) {
    err(`error: ${(e as Error).message}\n\n${usage}`);
    return 1;
  }
  const kind = positionals[0];
  if (v.help) return out(usage), 0;
  const fail = (m: string) => (err(`error: ${m}\n\n${usage}`), 1);
  if (kind !== 'mosquitto') return fail(`broker: must be "mosquitto", got ${JSON.stringify(kind ?? '')}`);
  if (!v.dir) return fail('--dir: required');
  const port = v.port === undefined ? (v.tls ? 8883 : 1883) : Number(v.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) return fail(`--port: must be a port number from 1 to 65535, got "${v.port}"`);
  if (v.tls && !v['cluster-dir']) return fail('--cluster-dir: required with --tls (the first master\'s data dir, whose cluster CA signs the broker\'s certificate)');
  if (!v.tls && (v['cluster-dir'] || v['tls-san'])) return fail('--cluster-dir and --tls-san: only with --tls');
  const sans = (v['tls-san'] ?? []).flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean);
  const bind = v.bind ?? '0.0.0.0';
  const plugin = v.plugin ?? pluginPaths.find((p) => existsSync(p));
  if (!plugin) return fail(`--plugin: mosquitto_dynamic_security.so not found in ${pluginPaths.join(', ')}; install mosquitto 2.0 or give its path`);
  const dir = resolve(v.dir);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  let tls: BrokerTlsFiles | undefined;
  try {
    if (v.tls) tls = await writeBrokerTls(dir, resolve(v['cluster-dir']!), bind, sans);
  } catch (e) {
    return fail(`--tls: ${(e as Error).message}`);
  }
  const password = randomBytes(32).toString('base64url');
  writePrivate(join(dir, 'master.password'), password + '\n');
  writePrivate(join(dir, 'dynamic-security.json'), JSON.stringify(dynsecFile(password), null, 2) + '\n');
  writePrivate(join(dir, 'mosquitto.conf'), mosquittoConf({ dir, port, bind, plugin, user: userInfo().username, ...(tls ? { tls } : {}) }));
  const host = bind === '0.0.0.0' || bind === '::' ? '127.0.0.1' : bind.includes(':') ? `[${bind}]` : bind;
  out(`wrote ${join(dir, 'mosquitto.conf')}, ${join(dir, 'dynamic-security.json')} and ${join(dir, 'master.password')}\n`);
  if (tls) out(`TLS: ${tls.certfile} signed by the cluster CA ${tls.caHash} (${tls.cafile}), valid until ${tls.notAfter.toISOString()}; run this again before then\n`);
  out(`start the broker:  mosquitto -c ${join(dir, 'mosquitto.conf')}\n`);
  out(`then each master:  skiff master --store etcd://... --broker URL (below; on other hosts, put the broker's address in it)\n`);
  out(tls ? `mqtts://${MASTER_ACCOUNT}@${host}:${port}?password-file=${join(dir, 'master.password')}&ca-file=${tls.cafile}\n` : `mqtt://${MASTER_ACCOUNT}@${host}:${port}?password-file=${join(dir, 'master.password')}\n`);
  return 0;
}

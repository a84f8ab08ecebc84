/**
 * The start-up steps of several masters (docs/ha.md), beside steps.ts: the external broker in place of the
 * embedded one, and the leader election that decides which master runs the controllers.
 */
import { networkInterfaces } from 'node:os';
import { skiffVersion, withFields, type Logger } from '../../protocol/index.js';
import { announceMaster } from '../discovery/announce.js';
import type { BrokerLocation } from '../external/url.js';
import type { MasterConfig } from '../config.js';
import type { ControllerContext } from '../controllers/types.js';
import type { Credentials } from '../credentials.js';
import { ExternalBroker } from '../external/link.js';
import { describeBroker, parseBrokerUrl } from '../external/url.js';
import { NodeCertService } from '../nodes/certs.js';
import { JoinService, revokeOrphanCredentials } from '../nodes/join.js';
import { Inbox } from '../router.js';
import type { Publish } from '../steps.js';
import { EtcdStore } from '../store/etcd.js';
import type { Store } from '../store/types.js';
import type { Teardown } from '../teardown.js';
import type { MasterTls } from '../tls/server.js';
import { campaign, currentLeader } from './election.js';
import { writeLease } from './lease-object.js';
import { Members, soleOwner } from './members.js';
import { deleteExpiredUpload, downloadClusterFiles, uploadClusterFiles } from './cluster-files.js';
import { securePrivateDir } from '../datadir.js';
import { openStoreAt, storeLocation } from '../store/open.js';

/** The master connected to `--broker` (the parts startBroker makes for the embedded one). */
export async function connectExternalBroker(
  config: MasterConfig,
  credentials: Credentials,
  tls: MasterTls,
  ctx: ControllerContext,
  down: Teardown,
): Promise<{ broker: ExternalBroker; inbox: Inbox; publish: Publish; joins: JoinService; certs: NodeCertService }> {
  const location = parseBrokerUrl(config.broker);
  const inbox = new Inbox(ctx.log);
  const log = withFields(ctx.log, { component: 'broker' });
  const broker = await ExternalBroker.connect({ location, name: config.name, credentials, log, onMessage: (m) => inbox.message(m), onClientGone: (c, id) => inbox.clientGone(c, id) });
  down.add('broker', () => broker.close());
  log.info('using an external broker', { broker: describeBroker(location) });
  // After connecting, so the broker accounts of orphan credentials go with them.
  await revokeOrphanCredentials(credentials, ctx.informers, withFields(ctx.log, { component: 'nodes' }));
  ctx.events.attach((topic, payload) => void broker.publish(topic, payload, { qos: 0 }).catch(() => undefined));
  const publish: Publish = (topic, payload, retain = false) => broker.publish(topic, payload, { qos: 1, retain });
  const own = `${location.host}:${location.port}`;
  const joins = new JoinService({ ...ctx, log: withFields(ctx.log, { component: 'nodes' }) }, credentials, (t, p) => publish(t, p), {
    perSource: config.joinRatePerSource,
    overall: config.joinRate,
    // A discovered master is the broker the masters announce (announce.ts): the agent must have dialled it.
    isOwnAddress: (dialled) => dialled === own || dialled.endsWith(`:${location.port}`),
    tls,
  });
  const certs = new NodeCertService(tls, credentials, (t, p) => publish(t, p), withFields(ctx.log, { component: 'nodes' }));
  return { broker, inbox, publish, joins, certs };
}

/** How this master leads. */
export interface Leading {
  /** Resolves once this master leads (at once with one master). */
  readonly elected: Promise<void>;
}

/**
 * Takes the lead: with SQLite at once (one master, always the leader); with etcd through the election, after
 * which `start` runs (controllers, scheduler, node lifecycle) and the leader's Lease object is written and
 * renewed. With the external broker every master serves the API (its share of the client sessions, members.ts).
 * With the embedded broker a second master of the same store is refused: its agents could not reach it.
 */
export async function lead(
  o: { config: MasterConfig; store: Store; objects: ControllerContext['objects']; log: Logger; down: Teardown; external?: ExternalBroker },
  start: () => void,
  onLost: (err: Error) => void,
): Promise<void> {
  const { config, store, log, down } = o;
  if (!(store instanceof EtcdStore)) {
    log.info('leading', { identity: config.name, why: 'one master (SQLite store)' });
    start();
    await o.external?.setLeading(true); // one master with an external broker: it takes the leader's topics at once
    await o.external?.serveApi(soleOwner);
    return;
  }
  if (!o.external) {
    const other = await currentLeader(store);
    if (other !== undefined && other !== config.name)
      throw new Error(`master "${other}" already leads this etcd store; several masters need an external broker (--broker, docs/ha.md): with the embedded one, each master's agents reach only that master`);
  }
  if (o.external) {
    // Every master serves the API: each the client sessions it owns among the live masters (docs/ha.md).
    const external = o.external;
    const members = await Members.follow(store, config.name, withFields(log, { component: 'masters' }), (before, after) => external.membersChanged(before, after));
    down.add('members', () => members.close());
    await external.serveApi(members);
  }
  let renew: NodeJS.Timeout | undefined;
  const electionLog = withFields(log, { component: 'election' });
  const candidacy = await campaign(store, {
    name: config.name,
    leaseSeconds: config.leaderLeaseSeconds,
    log: electionLog,
    onLead: async () => {
      await writeLease(o.objects, config.name, config.leaderLeaseSeconds);
      start();
      await o.external?.setLeading(true);
      renew = setInterval(() => void writeLease(o.objects, config.name, config.leaderLeaseSeconds).catch((err) => electionLog.warn('cannot renew the Lease object', { err })), Math.max(1000, (config.leaderLeaseSeconds * 1000) / 2));
      renew.unref();
    },
    onLost: (err) => {
      if (renew) clearInterval(renew);
      electionLog.error('lost the leadership or the candidacy; stopping (a supervisor restarts this master as a candidate)', { err });
      onLost(err);
    },
  });
  down.add('election', async () => {
    if (renew) clearInterval(renew);
    await candidacy.stop();
  });
}

/**
 * Announces the external broker on the LAN as the master's MQTT endpoint (`_skiff-master._tcp`), so `skiff-agent
 * join` without --master finds where to connect — when the broker listens on this master's host (the SRV record
 * names this host); a broker elsewhere is not announced (agents then join with --master URL of the broker).
 */
export function announceBroker(config: MasterConfig, b: BrokerLocation, log: Logger, down: Teardown): void {
  if (!config.mdns) return;
  const own = Object.values(networkInterfaces()).flat().some((i) => i?.address === b.host) || b.host === config.name;
  const mdnsLog = withFields(log, { component: 'mdns' });
  if (!own || /^(127\.|::1$|localhost$)/.test(b.host)) return mdnsLog.info('the external broker is not announced on the LAN (not on a LAN address of this host); agents join with --master', { broker: b.url });
  const mdns = announceMaster({ mqttPort: b.port, tls: b.tls, bind: config.mqttHost, version: skiffVersion(), name: `Skiff master ${config.name}`, host: `skiff-master-${config.name.replace(/\./g, '-')}.local` }, (m) => mdnsLog.warn(m));
  if (mdns) down.add('mdns', () => mdns.stop());
}

/**
 * `--certificate-key`: before anything else reads the data dir, fetches the cluster's shared files another master
 * uploaded (cluster-files.ts) into this master's empty data dir.
 */
export async function fetchClusterFiles(config: MasterConfig, log: Logger): Promise<void> {
  if (!config.certificateKey) return;
  securePrivateDir(config.dataDir);
  const store = await openStoreAt(storeLocation(config), { etcd: { log: withFields(log, { component: 'store' }) } });
  try {
    const files = await downloadClusterFiles(store, config.dataDir, config.certificateKey);
    log.info('joined the cluster with the certificate key: wrote its shared files', { files: files.join(','), dataDir: config.dataDir });
  } finally {
    await store.close();
  }
}

/**
 * Every master on etcd deletes an expired upload at start; with `--upload-certs` this one uploads the shared files
 * and deletes them when they expire (if it still runs then). Returns the certificate key, to be printed once.
 */
export async function uploadCerts(config: MasterConfig, store: Store, log: Logger, down: Teardown): Promise<{ key: string; expiresAt: string } | undefined> {
  if (!(store instanceof EtcdStore)) return undefined;
  if (await deleteExpiredUpload(store)) log.info('deleted the expired upload of the cluster files');
  if (!config.uploadCerts) return undefined;
  const up = await uploadClusterFiles(store, config.dataDir);
  log.info('uploaded the cluster files to the store, sealed with a certificate key printed on stdout', { expiresAt: up.expiresAt });
  const timer = setTimeout(() => void deleteExpiredUpload(store).catch(() => undefined), Date.parse(up.expiresAt) - Date.now() + 1000);
  timer.unref();
  down.add('upload-certs', () => clearTimeout(timer));
  return up;
}

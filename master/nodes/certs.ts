/**
 * Node certificate renewal (docs/security.md "Node certificates"): an agent publishes a CSR on its own
 * `nodes/{node}/csr` before its certificate reaches 2/3 of its life; the master signs it (CN = that node,
 * whatever the CSR asks), lists the new serial in the node's credential record — the previous one stays valid
 * until the next renewal, so the agent reconnects when it likes — and answers on `nodes/{node}/cert`. Like
 * kubelet client certificate rotation, without the CertificateSigningRequest object: the node is the only
 * one who may ask for itself, and the ACL already says so. A few requests a minute per node at most: each costs
 * a signature and a store write.
 */
import { SkiffError, decodeObject, encode, isObject, toWireError, topics, type CertRequest, type CertResponse, type Logger } from '../../protocol/index.js';
import type { Credentials } from '../credentials.js';
import { KeyedBuckets } from '../ratelimit.js';
import type { MasterTls } from '../tls/server.js';

/** Requests per node: bursts of 3, then 2 a minute (a renewal is one request a few months apart). */
const RATE = { burst: 3, perMinute: 2 };

/** Signs nodes' renewal requests. */
export class NodeCertService {
  private readonly buckets = new KeyedBuckets(RATE);

  constructor(
    private readonly tls: Pick<MasterTls, 'signNode'>,
    private readonly credentials: Credentials,
    private readonly publish: (topic: string, payload: Buffer) => Promise<void>,
    private readonly log: Logger,
  ) {}

  /** Handles one request from `node` (the broker authenticated it and the ACL let it publish only its own). */
  async onRequest(node: string, payload: Buffer): Promise<void> {
    let id = '';
    let res: CertResponse;
    try {
      const req = decodeObject<CertRequest>(payload).value;
      if (!isObject(req) || typeof req.id !== 'string' || req.id.length === 0 || req.id.length > 64) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', 'certificate request: id: must be a string of 1–64 characters');
      id = req.id;
      const wait = this.buckets.take(node);
      if (wait > 0) throw new SkiffError('SKIFF_ERR_UNAVAILABLE', `too many certificate requests from node ${node}; retry in ${Math.ceil(wait / 1000)} s`);
      const signed = await this.tls.signNode(node, req.csr);
      await this.credentials.addNodeCert(node, signed.serial);
      res = { id, ok: true, cert: signed.certPem };
      this.log.info('renewed a node certificate', { node, serial: signed.serial, validTo: signed.notAfter.toISOString() });
    } catch (err) {
      this.log.warn('refused a node certificate request', { node, err });
      res = { id, ok: false, error: toWireError(err) };
    }
    await this.publish(topics.nodeCert(node), encode(res));
  }
}

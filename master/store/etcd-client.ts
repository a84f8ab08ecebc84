/**
 * The etcd3 client of an etcd location (TLS files read here, with errors naming the flag), the byte
 * form of keys under the root, and the mapping of etcd's errors onto the store's codes.
 */
import { readFileSync } from 'node:fs';
import { Etcd3, type IKeyValue, type IOptions } from 'etcd3';
import { SkiffError } from '../../protocol/errors.js';
import { describeLocation, type EtcdLocation } from './location.js';

/** Connection settings of an etcd store; all optional. */
export interface EtcdConnectOptions {
  /** How long to wait for a connection to etcd. Default 10 s. */
  dialTimeoutMs?: number;
  /** Deadline of each unary call (get, txn, range page). Default 10 s; watches have none. */
  requestTimeoutMs?: number;
}

/** Makes the etcd3 client for a location. Throws SKIFF_ERR_BAD_REQUEST when a TLS file cannot be read. */
export function etcdClient(loc: EtcdLocation, options: EtcdConnectOptions = {}): Etcd3 {
  const requestTimeoutMs = options.requestTimeoutMs ?? 10_000;
  const opts: IOptions = {
    hosts: loc.hosts,
    dialTimeout: options.dialTimeoutMs ?? 10_000,
    // A whole cluster's list can exceed gRPC's 4 MiB default even when paged (one large value).
    grpcOptions: { 'grpc.max_receive_message_length': 64 * 1024 * 1024 },
    defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + requestTimeoutMs }),
  };
  if (loc.tls && (loc.caFile || loc.certFile)) {
    opts.credentials = {
      // Without --etcd-cafile, gRPC's bundled roots verify the server.
      rootCertificate: loc.caFile ? readPem(loc.caFile, '--etcd-cafile') : (undefined as unknown as Buffer),
      ...(loc.certFile ? { certChain: readPem(loc.certFile, '--etcd-certfile'), privateKey: readPem(loc.keyFile!, '--etcd-keyfile') } : {}),
    };
  }
  if (loc.username !== undefined) opts.auth = { username: loc.username, password: loc.password ?? '' };
  return new Etcd3(opts);
}

function readPem(path: string, flag: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `${flag} ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/** Byte keys under one root: the store key `/registry/x` is `ROOT/registry/x` in etcd. */
export class RootKeys {
  /** The root's own key: the meta record (outside every data range, since data keys are ROOT/...). */
  readonly meta: Buffer;
  private readonly rootBytes: number;

  constructor(readonly root: string) {
    this.meta = Buffer.from(root);
    this.rootBytes = this.meta.length;
  }

  /** The etcd key of a store key. */
  key(key: string): Buffer {
    return Buffer.from(this.root + key);
  }

  /** The store key of an etcd key. */
  unkey(key: Buffer): string {
    return key.subarray(this.rootBytes).toString('utf8');
  }

  /**
   * The etcd range `[start, end)` of the store keys starting with `prefix` ('' = all, which is the
   * range of ROOT/). UTF-8 byte order is code-point order, so this matches SQLite's ordering; the
   * end is the start with its last byte plus one (UTF-8 never holds 0xff, so no carry is needed).
   */
  range(prefix: string): { start: Buffer; end: Buffer } {
    const start = Buffer.from(this.root + (prefix === '' ? '/' : prefix));
    const end = Buffer.from(start);
    end[end.length - 1]! += 1;
    return { start, end };
  }
}

/** A key/value from etcd, shifted by the root's revision offset, value still JSON text. */
export interface RawEntry {
  key: string;
  text: string;
  createRevision: number;
  modRevision: number;
}

/** Converts an etcd key/value. */
export function rawEntry(keys: RootKeys, kv: IKeyValue, offset: number): RawEntry {
  return { key: keys.unkey(kv.key), text: kv.value.toString('utf8'), createRevision: Number(kv.create_revision) + offset, modRevision: Number(kv.mod_revision) + offset };
}

/** True when etcd refused a revision because its history was compacted. */
export function isCompactedError(err: unknown): boolean {
  return /required revision has been compacted/.test(String((err as Error)?.message));
}

/** True when etcd refused a revision that is in its future. */
export function isFutureRevisionError(err: unknown): boolean {
  return /required revision is a future revision/.test(String((err as Error)?.message));
}

/** A SkiffError for whatever the client threw (SkiffErrors pass through): etcd trouble is UNAVAILABLE. */
export function storeError(loc: EtcdLocation, err: unknown): SkiffError {
  if (err instanceof SkiffError) return err;
  const message = (err as Error)?.message ?? String(err);
  return new SkiffError('SKIFF_ERR_UNAVAILABLE', `store: ${describeLocation(loc)}: ${message}`);
}

/** The API's moving parts: what handlers get, and the call they answer. */
import type { ApiRequest, ApiResponse, Logger } from '../../protocol/index.js';
import type { Identity } from '../broker/acl.js';
import type { Credentials } from '../credentials.js';
import type { EventRecorder } from '../events.js';
import type { Informers } from '../informer.js';
import type { MetricsStore } from '../metrics.js';
import type { AgentRpc } from '../nodes/rpc.js';
import type { Objects } from '../objects.js';
import type { Telemetry } from '../telemetry/registry.js';
import type { SealedStore } from '../secrets/sealed-store.js';
import type { BundleStore } from '../upgrade/store.js';
import type { Audit } from './audit.js';

/** Dependencies of the API handlers. */
export interface ApiContext {
  objects: Objects;
  informers: Informers;
  events: EventRecorder;
  rpc: AgentRpc;
  credentials: Credentials;
  /** Latest cpu/memory samples from the agents (top). */
  metrics: MetricsStore;
  version: string;
  /** Agent bundles for fleet upgrades (upgrade verb); absent in tests that do not need them. */
  bundles?: BundleStore;
  /** The master's logger. */
  log: Logger;
  /** The master's Prometheus metrics (requests by verb and outcome, latency); absent in unit tests. */
  telemetry?: Telemetry;
  /** Who asked for what: the log and the audit file (audit.ts). */
  audit: Audit;
  /** The store that seals Secrets at rest (`secrets rotate-key`); absent in tests that need none. */
  sealed?: SealedStore;
  /** Disconnects the MQTT clients whose identity matches (revoked tokens, deleted nodes). */
  kick?: (match: (id: Identity) => boolean) => number;
  /** Disconnects the client connected with this id (an API client that does not read its answers); false when none is, or the broker cannot. */
  disconnect?: (clientId: string) => boolean;
  /** The identity connected with a client id now; answers are published only while it is the one that asked. */
  holderOf?: (clientId: string) => Identity | undefined;
}

/** One request being answered. */
export interface ApiCall {
  identity: Identity;
  clientId: string;
  /** Sends a streamed piece (watch event, log chunk). */
  send(part: Omit<ApiResponse, 'id' | 'ok'>): void;
  /** Registers cleanup for when the stream is cancelled or the client goes away. */
  onEnd(fn: () => void): void;
  /** Ends a stream with `done: true` (or an error). */
  end(error?: unknown): void;
}

/** Returned by a streaming handler: the server sends no final answer; the handler calls `end`. */
export const STREAMING = Symbol('streaming');

/** A verb's handler: returns the result, or STREAMING. Throws SkiffError for bad requests. */
export type Handler = (ctx: ApiContext, req: ApiRequest, call: ApiCall) => Promise<unknown>;

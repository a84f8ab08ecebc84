/**
 * Broker metrics: messages and payload bytes in (published by clients) and out (delivered to each
 * subscriber), by topic class — the type of the topic in Skiff's tree (`nodeStatus`, `nodePods`,
 * `apiReq`, `apiRes`, `service`, `events`, ...), `sys` for `$SYS/`, `other` for the rest — so a label
 * never carries a node, client or object name.
 */
import { CONNACK } from '../broker/client-ids.js';
import { topicType } from '../broker/topic-type.js';
import type { Telemetry } from './registry.js';

/** The bounded class of a topic. */
export function topicClass(topic: string): string {
  if (topic.startsWith('$SYS')) return 'sys';
  return topicType(topic) ?? 'other';
}

/** The tallies of one topic class since the counters were last read. */
type Tally = { messages: number; bytes: number };

/**
 * The broker's hooks that feed `t`. Called for every message (1,000 nodes: a lease every 10 s each, and every
 * delivery), so a call only adds to plain numbers by topic class; they are folded into the prom-client counters when
 * those are read (a scrape). A child counter's inc hashed and validated its label object on every call, twice per
 * message (issue 16, idle CPU).
 */
export function brokerObservers(t: Telemetry): { onReceive(topic: string, bytes: number): void; onDeliver(topic: string, bytes: number): void } {
  const received = new Map<string, Tally>();
  const sent = new Map<string, Tally>();
  const count = (tallies: Map<string, Tally>, topic: string, n: number) => {
    const cls = topicClass(topic);
    const c = tallies.get(cls);
    if (c) (c.messages++, (c.bytes += n));
    else tallies.set(cls, { messages: 1, bytes: n });
  };
  const fold = (tallies: Map<string, Tally>, messages: typeof t.brokerSent, bytes: typeof t.brokerSentBytes) => {
    for (const [cls, c] of tallies) {
      if (c.messages) messages.inc({ topic_class: cls }, c.messages);
      if (c.bytes) bytes.inc({ topic_class: cls }, c.bytes);
      c.messages = c.bytes = 0; // the class is kept (a bounded set): no map churn between scrapes
    }
  };
  t.onBrokerCollect(() => {
    fold(received, t.brokerReceived, t.brokerReceivedBytes);
    fold(sent, t.brokerSent, t.brokerSentBytes);
  });
  return {
    onReceive: (topic, n) => count(received, topic, n),
    onDeliver: (topic, n) => count(sent, topic, n),
  };
}

/** The reason label of a refused CONNECT's return code (a fixed table: a label never carries a client's words). */
export function refusalReason(returnCode: number): string {
  switch (returnCode) {
    case CONNACK.IDENTIFIER_REJECTED:
      return 'client_id_rejected';
    case CONNACK.SERVER_UNAVAILABLE:
      return 'too_many_connections';
    case CONNACK.BAD_CREDENTIALS:
      return 'bad_credentials';
    case CONNACK.NOT_AUTHORIZED:
      return 'not_authorized';
    default:
      return 'other';
  }
}

/** The broker hook that counts refused CONNECTs into skiff_broker_connects_refused_total. */
export function connectRefusedObserver(t: Telemetry): { onConnectRefused(returnCode: number): void } {
  return { onConnectRefused: (code) => t.connectsRefused.inc({ reason: refusalReason(code) }) };
}

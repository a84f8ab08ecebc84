/**
 * Broker metrics: messages and payload bytes in (published by clients) and out (delivered to each
 * subscriber), by topic class — the type of the topic in Skiff's tree (`nodeStatus`, `nodePods`,
 * `apiReq`, `apiRes`, `service`, `events`, ...), `sys` for `$SYS/`, `other` for the rest — so a label
 * never carries a node, client or object name.
 */
import { topicType } from '../broker/topic-type.js';
import type { Telemetry } from './registry.js';

/** The bounded class of a topic. */
export function topicClass(topic: string): string {
  if (topic.startsWith('$SYS')) return 'sys';
  return topicType(topic) ?? 'other';
}

/** A counter's children by topic class, made once each (a class is one of a bounded set). */
type Children = Map<string, { messages: { inc(n?: number): void }; bytes: { inc(n?: number): void } }>;

/**
 * The broker's hooks that feed `t`. Called for every message (1,000 nodes lease every 2 s): the counter children
 * are looked up by class in a map instead of prom-client hashing a label object per call.
 */
export function brokerObservers(t: Telemetry): { onReceive(topic: string, bytes: number): void; onDeliver(topic: string, bytes: number): void } {
  const received: Children = new Map();
  const sent: Children = new Map();
  const count = (children: Children, messages: typeof t.brokerSent, bytes: typeof t.brokerSentBytes, topic: string, n: number) => {
    const cls = topicClass(topic);
    let c = children.get(cls);
    if (!c) children.set(cls, (c = { messages: messages.labels({ topic_class: cls }), bytes: bytes.labels({ topic_class: cls }) }));
    c.messages.inc();
    c.bytes.inc(n);
  };
  return {
    onReceive: (topic, n) => count(received, t.brokerReceived, t.brokerReceivedBytes, topic, n),
    onDeliver: (topic, n) => count(sent, t.brokerSent, t.brokerSentBytes, topic, n),
  };
}

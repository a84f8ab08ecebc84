/**
 * Broker metrics: messages and payload bytes in (published by clients) and out (delivered to each
 * subscriber), by topic class — the type of the topic in Skiff's tree (`nodeStatus`, `nodePods`,
 * `apiReq`, `apiRes`, `service`, `events`, ...), `sys` for `$SYS/`, `other` for the rest — so a label
 * never carries a node, client or object name.
 */
import { parseTopic } from '../../protocol/index.js';
import type { Telemetry } from './registry.js';

/** The bounded class of a topic. */
export function topicClass(topic: string): string {
  if (topic.startsWith('$SYS')) return 'sys';
  return parseTopic(topic)?.type ?? 'other';
}

/** The broker's hooks that feed `t`. */
export function brokerObservers(t: Telemetry): { onReceive(topic: string, bytes: number): void; onDeliver(topic: string, bytes: number): void } {
  return {
    onReceive(topic, bytes) {
      const labels = { topic_class: topicClass(topic) };
      t.brokerReceived.inc(labels);
      t.brokerReceivedBytes.inc(labels, bytes);
    },
    onDeliver(topic, bytes) {
      const labels = { topic_class: topicClass(topic) };
      t.brokerSent.inc(labels);
      t.brokerSentBytes.inc(labels, bytes);
    },
  };
}

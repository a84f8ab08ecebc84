/**
 * The type of a topic in Skiff's tree (protocol parseTopic), remembered per topic string: the broker asks it
 * several times for every message (liveness class, proves-alive, the metrics' topic class), and 1,000 nodes
 * publish on a few thousand topics over and over (issue 16, idle CPU: each ask split the topic anew). Bounded:
 * past `maxTopics` distinct topics the memory starts over, so a client inventing topics cannot grow it.
 */
import { parseTopic, type ParsedTopic } from '../../protocol/index.js';

/** Distinct topics remembered before the memory starts over. */
export const maxTopics = 20_000;

const known = new Map<string, ParsedTopic['type'] | null>();

/** The type of `topic` (null: not a topic of Skiff's tree). */
export function topicType(topic: string): ParsedTopic['type'] | null {
  let t = known.get(topic);
  if (t === undefined) {
    if (known.size >= maxTopics) known.clear();
    t = parseTopic(topic)?.type ?? null;
    known.set(topic, t);
  }
  return t;
}

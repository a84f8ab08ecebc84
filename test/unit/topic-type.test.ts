/**
 * The broker's remembered topic types (master/broker/topic-type.ts): the same answer as protocol parseTopic for
 * every kind of topic, and bounded — a client publishing ever new topics cannot grow the memory past maxTopics.
 */
import { describe, expect, it } from 'vitest';
import { maxTopics, topicType } from '../../master/broker/topic-type.js';
import { topicClass } from '../../master/telemetry/broker.js';
import { parseTopic, topics } from '../../protocol/index.js';

describe('topicType', () => {
  it.each([
    topics.nodeLease('pi-1'),
    topics.nodeStatus('pi-1'),
    topics.nodePods('pi-1'),
    topics.nodeDesired('pi-1'),
    topics.apiReq('cli-1'),
    topics.events,
    'skiff/v1/nodes/pi-1/nope',
    'elsewhere/entirely',
    'skiff/v1/nodes//lease',
  ])('%s: as parseTopic says, asked once or twice', (topic) => {
    const want = parseTopic(topic)?.type ?? null;
    expect(topicType(topic)).toBe(want);
    expect(topicType(topic)).toBe(want);
  });

  it('the metrics class of a topic is its type, `sys` or `other`', () => {
    expect([topicClass(topics.nodeLease('a')), topicClass('$SYS/x'), topicClass('a/b')]).toEqual(['nodeLease', 'sys', 'other']);
  });

  it('stays bounded however many topics are seen', () => {
    for (let i = 0; i < maxTopics * 2 + 5; i++) expect(topicType(`skiff/v1/nodes/n${i}/lease`)).toBe('nodeLease');
    expect(topicType(topics.nodeLease('n1'))).toBe('nodeLease');
  });
});

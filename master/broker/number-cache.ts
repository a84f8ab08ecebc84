/**
 * mqtt-packet, the MQTT codec under aedes (the master's broker) and mqtt.js, fills a cache at the first packet it
 * writes: 65,536 two-byte Buffers, one per 16-bit number (topic lengths, message ids) — ~7 MB of heap and ~11 MB of
 * RSS, 65,536 objects every full GC marks, and ~33 ms of CPU at the first packet. The agent and the CLI turn it off
 * with mqtt.js's `writeCache: false`; aedes has no such option, so the master turns it off in the codec itself before
 * it writes its first packet (later, a cache already made would stay). Without it, a number is written as a 2-byte
 * Buffer made when needed: ~70 ns more per PUBACK, nothing measurable per PUBLISH (docs/scale.md, session 32).
 */
import mqttPacket from 'mqtt-packet';

/** Makes mqtt-packet write 16-bit numbers without its 65,536-Buffer cache (see above); calling again is harmless. */
export function uncachedMqttNumbers(): void {
  mqttPacket.writeToStream.cacheNumbers = false;
}

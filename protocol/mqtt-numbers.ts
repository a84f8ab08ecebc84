/**
 * mqtt-packet, the MQTT codec under aedes (the master's broker) and mqtt.js (the agent's, the CLI's and the master's
 * external-broker client), fills a cache at the first packet it writes: 65,536 two-byte Buffers, one per 16-bit
 * number (topic lengths, message ids). That is ~7 MB of heap and ~11 MB of RSS in every process, 65,536 objects each
 * full GC marks, and ~33 ms of CPU at the first packet (on this box; several times that on a Pi) — the whole cost of
 * a short `skiff get`'s codec. Without it, a number is written as a 2-byte Buffer made when needed: ~70 ns more per
 * PUBACK, nothing measurable per PUBLISH (docs/scale.md, session 32).
 *
 * Call before the process writes its first MQTT packet (later, the cache already made stays); calling again is harmless.
 */
import mqttPacket from 'mqtt-packet';

/** Makes mqtt-packet write 16-bit numbers without its 65,536-Buffer cache (see above). */
export function uncachedMqttNumbers(): void {
  mqttPacket.writeToStream.cacheNumbers = false;
}

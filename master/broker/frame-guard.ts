/**
 * A guard in front of aedes' packet parser. mqtt-packet collects a whole packet before it parses it, trusting
 * the remaining length of the fixed header (up to 268,435,455 bytes) — before authentication too. The guard
 * follows the packet framing of the byte stream itself ([MQTT-2.2]: one type/flags byte, a remaining length of
 * one to four bytes, then that many bytes) and refuses a packet by its announced length, so nothing larger than
 * the limit is ever buffered. It skips bodies without looking at them: O(1) per chunk once in a body.
 */
import type { Client } from 'aedes';

/** Where the guard is in the stream. */
type State = 'type' | 'length' | 'body';

/** Follows MQTT framing over a byte stream and checks each announced length. */
export class FrameGuard {
  private state: State = 'type';
  private type = 0;
  private length = 0;
  private multiplier = 1;
  private left = 0;

  /** `limit(type)` is the largest remaining length allowed for a packet of that type, asked when its length is known. */
  constructor(private readonly limit: (type: number) => number) {}

  /** Feeds the next bytes; returns why the stream must be closed, or undefined while it is fine. */
  feed(buf: Uint8Array): string | undefined {
    let i = 0;
    while (i < buf.length) {
      if (this.state === 'body') {
        const n = Math.min(this.left, buf.length - i);
        this.left -= n;
        i += n;
        if (this.left === 0) this.state = 'type';
        continue;
      }
      const b = buf[i++];
      if (this.state === 'type') {
        this.type = b >> 4;
        this.length = 0;
        this.multiplier = 1;
        this.state = 'length';
        continue;
      }
      // [MQTT-2.2.3] remaining length: seven bits a byte, least significant first, at most four bytes.
      this.length += (b & 0x7f) * this.multiplier;
      if (b & 0x80) {
        this.multiplier *= 128;
        if (this.multiplier > 128 ** 3) return 'malformed remaining length';
        continue;
      }
      const max = this.limit(this.type);
      if (this.length > max) return `a packet of type ${this.type} announced ${this.length} bytes, more than the ${max} allowed`;
      this.left = this.length;
      this.state = this.left > 0 ? 'body' : 'type';
    }
    return undefined;
  }
}

/** The parser aedes keeps on each client (not in its typings). */
type ParsingClient = Client & { _parser: { parse(buf: Buffer): number } };

/**
 * Puts a FrameGuard in front of one aedes client's parser: every chunk aedes reads from the socket passes the
 * guard first; a refused one destroys the socket before the parser has seen (or buffered) it.
 */
export function guardClient(client: Client, limit: (type: number) => number, refused: (why: string) => void): void {
  const parser = (client as ParsingClient)._parser;
  if (!parser || typeof parser.parse !== 'function') throw new Error('aedes changed: a client has no _parser.parse to guard');
  const guard = new FrameGuard(limit);
  const parse = parser.parse.bind(parser);
  parser.parse = (buf: Buffer) => {
    const why = guard.feed(buf);
    if (why === undefined) return parse(buf);
    refused(why);
    client.conn.destroy();
    return 0;
  };
}

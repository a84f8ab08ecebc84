/**
 * The engine's multiplexed streams: without a TTY, a container's logs and an exec's output come as frames
 * (an 8-byte header: stream, 0, 0, 0, big-endian length, then the payload); `Demuxer` splits them back as they
 * arrive, across chunk boundaries. Used by logcopy.ts and exec.ts.
 */

/** Splits the engine's multiplexed stream into payloads, across chunk boundaries. */
export class Demuxer {
  private pending: Buffer = Buffer.alloc(0);

  constructor(private readonly onFrame: (stream: 'stdout' | 'stderr', payload: Buffer) => void) {}

  /** Feeds bytes; complete frames are passed on at once, a partial one waits for the rest. */
  push(chunk: Buffer): void {
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    while (this.pending.length >= 8) {
      const size = this.pending.readUInt32BE(4);
      if (this.pending.length < 8 + size) break;
      const kind = this.pending[0];
      this.onFrame(kind === 2 ? 'stderr' : 'stdout', this.pending.subarray(8, 8 + size));
      this.pending = this.pending.subarray(8 + size);
    }
  }
}

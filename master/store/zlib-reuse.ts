/**
 * Raw deflate / inflate with a preset dictionary, on one zlib stream reused for every value. `deflateRawSync`
 * builds a zlib stream per call (a JS object, a 16 KiB output buffer, deflateInit2 and the dictionary set,
 * then close): ~30 µs for a 1 KB value, most of it setup. Here one stream is reset after each value (zlib's
 * deflateReset/inflateReset keep the allocations; Node sets the dictionary again on reset), which measured
 * ~3× faster (bench/store-codec.ts). The bytes are a valid raw deflate stream that any inflate with the dictionary
 * reads (the previous release's decoder included), but not always the one-shot's bytes: zlib's match search
 * reads past the input in its window, which a reused stream has filled before (a byte more or less). It drives the stream's handle as Node's own
 * processChunkSync does (`_handle.writeSync`, `_writeState`): not public API, so it checks that they exist
 * and falls back to the public *Sync function if not, for an error (that function throws it properly), and
 * for an output larger than its buffer.
 */
import { constants, createDeflateRaw, createInflateRaw } from 'node:zlib';

interface ZlibHandle {
  writeSync(flush: number, input: Buffer, inOff: number, inLen: number, out: Buffer, outOff: number, outLen: number): void;
  reset(): void;
}

interface ZlibInternals {
  _handle?: ZlibHandle;
  _writeState?: Uint32Array;
  destroyed: boolean;
  on(event: 'error', listener: () => void): unknown;
  destroy(): void;
}

/** The public one-shot function this stands in for. */
type OneShot = (input: Buffer, options: { dictionary: Buffer; level?: number }) => Buffer;

const outBytes = 64 * 1024;

/**
 * A function that deflates (or inflates) `input` against `dictionary` in one go and returns the result after
 * `headroom` bytes left for the caller (a tag byte), as `oneShot` would; `level`: zlib's compression level (deflate;
 * zlib's default when undefined).
 */
export function reusableRaw(kind: 'deflate' | 'inflate', dictionary: Buffer, oneShot: OneShot, level?: number): (input: Buffer, headroom: number) => Buffer {
  const out = Buffer.allocUnsafe(outBytes);
  let stream: ZlibInternals | undefined;
  let unsupported = false;
  const options = kind === 'deflate' && level !== undefined ? { dictionary, level } : { dictionary };
  const slow = (input: Buffer, headroom: number): Buffer => {
    const r = oneShot(input, options);
    const o = Buffer.allocUnsafe(r.length + headroom);
    r.copy(o, headroom);
    return o;
  };
  return (input, headroom) => {
    if (unsupported) return slow(input, headroom);
    stream ??= open(kind, options);
    const handle = stream._handle;
    const state = stream._writeState;
    if (typeof handle?.writeSync !== 'function' || typeof handle.reset !== 'function' || !(state instanceof Uint32Array)) {
      unsupported = true;
      return slow(input, headroom);
    }
    handle.writeSync(constants.Z_FINISH, input, 0, input.length, out, 0, outBytes);
    const availOut = state[0]!;
    const availIn = state[1]!;
    if (stream.destroyed || availOut === 0 || availIn !== 0) {
      // An error (the stream destroyed itself), an output that did not fit, or bytes after the end: the one-shot path says what it is.
      if (!stream.destroyed) stream.destroy();
      stream = undefined;
      return slow(input, headroom);
    }
    handle.reset();
    const n = outBytes - availOut;
    const result = Buffer.allocUnsafe(n + headroom);
    out.copy(result, headroom, 0, n);
    return result;
  };
}

function open(kind: 'deflate' | 'inflate', options: { dictionary: Buffer; level?: number }): ZlibInternals {
  const s = (kind === 'deflate' ? createDeflateRaw(options) : createInflateRaw(options)) as unknown as ZlibInternals;
  s.on('error', () => {}); // a stream that failed is dropped; the one-shot retry reports the error
  return s;
}

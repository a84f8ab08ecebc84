/**
 * Dots inside DNS-SD instance names. RFC 6763 §4.3: an instance name is ONE label and may contain dots
 * (`echo.default._skiff._tcp.local` is the labels `echo.default`, `_skiff`, `_tcp`, `local`; avahi prints
 * it `echo\.default`). bonjour-service turns every dot of an instance name into a dash, and dns-packet
 * (which it uses through multicast-dns) splits names on every dot. So inside this process a dot that
 * belongs to a label is written LABEL_DOT (U+2024, never valid in a Kubernetes name), and this module
 * teaches dns-packet's name codec to put a real dot on the wire for it, and to read one back the same way.
 * Names without LABEL_DOT encode and decode exactly as before. Installed once, process-wide.
 */
import { createRequire } from 'node:module';

/** Stands for a dot inside one DNS label in names handed to bonjour-service / multicast-dns. */
export const LABEL_DOT = '\u2024';

type Encode = ((str: string, buf?: Buffer, offset?: number, opts?: { mail?: boolean }) => Buffer) & { bytes: number };
type Decode = ((buf: Buffer, offset?: number, opts?: { mail?: boolean }) => string) & { bytes: number };
interface NameCodec {
  encode: Encode;
  decode: Decode;
  encodingLength(n: string): number;
}

let installed = false;

/** The dns-packet name codec that bonjour-service's multicast-dns uses (resolved from its own location). */
function nameCodec(): NameCodec {
  const here = createRequire(import.meta.url);
  const bonjour = createRequire(here.resolve('bonjour-service'));
  const mdns = createRequire(bonjour.resolve('multicast-dns'));
  return mdns('dns-packet').name as NameCodec;
}

/** Makes dns-packet encode LABEL_DOT as a dot inside a label and decode in-label dots as LABEL_DOT. */
export function installLabelDots(): void {
  if (installed) return;
  installed = true;
  const name = nameCodec();
  const { encode: encode0, decode: decode0, encodingLength: length0 } = name;
  const encode = function (str: string, buf?: Buffer, offset = 0, opts?: { mail?: boolean }): Buffer {
    if (!str.includes(LABEL_DOT)) return encode0(str, buf, offset, opts); // sets name.encode.bytes (this function)
    const n = str.replace(/^\.|\.$/gm, '');
    const out = buf ?? Buffer.alloc(name.encodingLength(str));
    let o = offset;
    for (const label of n.split('.')) {
      const len = out.write(label.replaceAll(LABEL_DOT, '.'), o + 1);
      out[o] = len;
      o += len + 1;
    }
    out[o++] = 0;
    encode.bytes = o - offset;
    return out;
  } as Encode;
  const decode = function (buf: Buffer, offset?: number, opts?: { mail?: boolean }): string {
    if (opts?.mail) return decode0(buf, offset, opts);
    // dns-packet's mail mode escapes a dot inside any label as `\.`: exactly the information we need.
    return decode0(buf, offset, { mail: true }).replace(/\\\./g, LABEL_DOT);
  } as Decode;
  name.encode = encode;
  name.decode = decode;
  name.encodingLength = (n: string) => length0(n.replaceAll(LABEL_DOT, '.'));
}

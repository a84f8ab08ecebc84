/**
 * The pod sandbox's image, made on the board without a registry: `localhost/skiff-pause:<arch>-1`, one static
 * executable `/pause` that blocks in the kernel for ever (Kubernetes' pause container does the same, plus
 * signal handlers; this one is stopped with SIGKILL, its StopSignal). The executable is a minimal ELF written
 * here — a header, one loadable segment and a three-instruction loop — for the architectures edge boards run:
 *
 *   x86-64    loop: mov eax, 34 (pause); syscall; jmp loop
 *   i386      loop: mov eax, 29 (pause); int 0x80; jmp loop
 *   aarch64   loop: x0..x3 = 0; x8 = 73 (ppoll: arm64 has no pause); svc 0; b loop
 *   arm       loop: mov r7, #29 (pause); svc 0; b loop
 *
 * The image is imported once (`ImageImport` of a one-file tar) and then found by name.
 */
import { pack } from 'tar-stream';

/** The ELF machine and code of one architecture (process.arch names). */
const code: Record<string, { machine: number; bits: 32 | 64; flags: number; text: number[] }> = {
  x64: { machine: 62, bits: 64, flags: 0, text: [0xb8, 0x22, 0, 0, 0, 0x0f, 0x05, 0xeb, 0xf7] },
  ia32: { machine: 3, bits: 32, flags: 0, text: [0xb8, 0x1d, 0, 0, 0, 0xcd, 0x80, 0xeb, 0xf7] },
  arm64: { machine: 183, bits: 64, flags: 0, text: words([0xd2800000, 0xd2800001, 0xd2800002, 0xd2800003, 0xd2800928, 0xd4000001, 0x17fffffa]) },
  arm: { machine: 40, bits: 32, flags: 0x05000000, text: words([0xe3a0701d, 0xef000000, 0xeafffffc]) },
};

function words(ws: number[]): number[] {
  const b = Buffer.alloc(ws.length * 4);
  ws.forEach((w, i) => b.writeUInt32LE(w >>> 0, i * 4));
  return [...b];
}

/** The architectures a pause executable can be made for. */
export const pauseArchs = Object.keys(code);

/** The pause executable for `arch` (process.arch), or undefined for an architecture without one. */
export function pauseElf(arch: string = process.arch): Buffer | undefined {
  const c = Object.prototype.hasOwnProperty.call(code, arch) ? code[arch] : undefined;
  if (!c) return undefined;
  return c.bits === 64 ? elf64(c.machine, c.flags, Buffer.from(c.text)) : elf32(c.machine, c.flags, Buffer.from(c.text));
}

/** ELF64: header (64 bytes), one PT_LOAD program header (56), the code; loaded at 0x400000. */
function elf64(machine: number, flags: number, text: Buffer): Buffer {
  const base = 0x400000;
  const size = 64 + 56 + text.length;
  const b = Buffer.alloc(size);
  b.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1], 0); // magic, 64-bit, little-endian, version 1
  b.writeUInt16LE(2, 16); // ET_EXEC
  b.writeUInt16LE(machine, 18);
  b.writeUInt32LE(1, 20);
  b.writeBigUInt64LE(BigInt(base + 64 + 56), 24); // entry
  b.writeBigUInt64LE(64n, 32); // phoff
  b.writeUInt32LE(flags, 48);
  b.writeUInt16LE(64, 52); // ehsize
  b.writeUInt16LE(56, 54); // phentsize
  b.writeUInt16LE(1, 56); // phnum
  b.writeUInt32LE(1, 64); // PT_LOAD
  b.writeUInt32LE(5, 68); // R + X
  b.writeBigUInt64LE(BigInt(base), 80); // vaddr
  b.writeBigUInt64LE(BigInt(base), 88); // paddr
  b.writeBigUInt64LE(BigInt(size), 96); // filesz
  b.writeBigUInt64LE(BigInt(size), 104); // memsz
  b.writeBigUInt64LE(0x1000n, 112); // align
  text.copy(b, 120);
  return b;
}

/** ELF32: header (52 bytes), one PT_LOAD program header (32), the code; loaded at 0x10000. */
function elf32(machine: number, flags: number, text: Buffer): Buffer {
  const base = 0x10000;
  const size = 52 + 32 + text.length;
  const b = Buffer.alloc(size);
  b.set([0x7f, 0x45, 0x4c, 0x46, 1, 1, 1], 0);
  b.writeUInt16LE(2, 16);
  b.writeUInt16LE(machine, 18);
  b.writeUInt32LE(1, 20);
  b.writeUInt32LE(base + 52 + 32, 24); // entry
  b.writeUInt32LE(52, 28); // phoff
  b.writeUInt32LE(flags, 36);
  b.writeUInt16LE(52, 40);
  b.writeUInt16LE(32, 42);
  b.writeUInt16LE(1, 44);
  b.writeUInt32LE(1, 52); // PT_LOAD
  b.writeUInt32LE(0, 56); // offset
  b.writeUInt32LE(base, 60);
  b.writeUInt32LE(base, 64);
  b.writeUInt32LE(size, 68);
  b.writeUInt32LE(size, 72);
  b.writeUInt32LE(5, 76); // R + X
  b.writeUInt32LE(0x1000, 80);
  text.copy(b, 84);
  return b;
}

/** The pause image's name on this architecture; the suffix changes whenever the executable does. */
export function pauseImage(arch: string = process.arch): string {
  return `localhost/skiff-pause:${arch}-1`;
}

/** A tar holding `/pause` (mode 0755): what ImageImport turns into the image's one layer. */
export function pauseTar(arch: string = process.arch): Promise<Buffer> {
  const elf = pauseElf(arch);
  if (!elf) return Promise.reject(new Error(`no pause executable for architecture ${arch} (have: ${pauseArchs.join(', ')})`));
  const p = pack();
  const chunks: Buffer[] = [];
  p.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise<Buffer>((resolve, reject) => {
    p.on('end', () => resolve(Buffer.concat(chunks)));
    p.on('error', reject);
  });
  p.entry({ name: 'pause', mode: 0o755, mtime: new Date(0) }, elf);
  p.finalize();
  return done;
}

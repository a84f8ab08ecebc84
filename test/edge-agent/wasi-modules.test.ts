/**
 * The wasi driver's pieces on their own: the memory cap written into a module's binary (checked by V8
 * itself: the capped module compiles and its memory cannot grow past the cap), the memories a module
 * imports, and the module store's answers for each kind of image (cached by digest, or the waiting reason).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PullError } from '../../edge-agent/drivers/types.js';
import { ModuleStore } from '../../edge-agent/drivers/wasi/modules.js';
import { capMemories, leb128, memoriesOf } from '../../edge-agent/drivers/wasi/sections.js';
import { helloWasm, sha256Of } from '../helpers/wasi.js';

const HEADER = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
const section = (id: number, body: number[]) => [id, ...leb128(body.length), ...body];
const name = (s: string) => [...leb128(s.length), ...Buffer.from(s)];
const limits = (min: number, max?: number) => (max === undefined ? [0x00, ...leb128(min)] : [0x01, ...leb128(min), ...leb128(max)]);
/** A module with one defined memory, exported as "mem". */
const withMemory = (min: number, max?: number) => new Uint8Array([...HEADER, ...section(5, [1, ...limits(min, max)]), ...section(7, [1, ...name('mem'), 0x02, 0])]);
const WA = (globalThis as unknown as { WebAssembly: { Module: new (b: Uint8Array) => object; Instance: new (m: object, i: object) => { exports: Record<string, { grow(n: number): number; buffer: ArrayBuffer }> } } }).WebAssembly;

describe('the memory cap', () => {
  it.each<[string, number | undefined, number, number | undefined]>([
    ['no maximum: the cap becomes it', undefined, 512, 512],
    ['a larger maximum: lowered to the cap', 65536, 512, 512],
    ['a smaller maximum: kept (nothing to rewrite)', 100, 512, undefined],
  ])('%s', (_what, max, cap, want) => {
    const out = capMemories(withMemory(1, max), cap);
    if (want === undefined) return expect(out).toBeUndefined();
    expect(memoriesOf(out!)).toEqual({ defined: [{ min: 1, max: want }], imported: [] });
    // V8 takes the rewritten module, and its memory stops at the cap.
    const mem = new WA.Instance(new WA.Module(out!), {}).exports.mem;
    expect(mem.grow(want - 1)).toBe(1);
    expect(() => mem.grow(1)).toThrow(RangeError);
  });

  it('a module whose memory starts above the limit cannot run within it', () => {
    expect(() => capMemories(withMemory(600), 512)).toThrow('the module\'s memory starts at 600 pages (38400 KiB), more than the limit of 512 pages');
  });

  it('keeps the rest of the module byte for byte (the AssemblyScript test module still runs)', async () => {
    const bytes = fs.readFileSync(await helloWasm());
    const out = capMemories(bytes, 256)!;
    expect(memoriesOf(out).defined).toEqual([{ min: memoriesOf(bytes).defined[0].min, max: 256 }]);
    expect(() => new WA.Module(out)).not.toThrow();
    expect(out.length - bytes.length).toBeLessThanOrEqual(4);
  });

  it('finds imported memories (a module built with --import-memory) past other imports', () => {
    const imports = section(2, [2, ...name('env'), ...name('f'), 0x00, 0, ...name('env'), ...name('memory'), 0x02, ...limits(2, 80)]);
    expect(memoriesOf(new Uint8Array([...HEADER, ...imports]))).toEqual({ defined: [], imported: [{ module: 'env', name: 'memory', min: 2, max: 80 }] });
  });

  it.each([
    ['not a module', new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]), /bad magic number/],
    ['a section past the end', new Uint8Array([...HEADER, 5, 40, 1]), /runs past the end/],
    ['memory64', new Uint8Array([...HEADER, ...section(5, [1, 0x04, 1])]), /memory64/],
  ])('refuses %s', (_what, bytes, err) => expect(() => memoriesOf(bytes)).toThrow(err));
});

describe('the module store', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'skiff-modules-'));
  const store = new ModuleStore(path.join(dir, 'modules'));
  const quiet = { debug() {}, info() {}, warn() {}, error() {} };
  const pull = (image: string, configMaps = {}) => store.pull(image, { namespace: 'shop', desired: { configMaps }, log: quiet });
  const reasonOf = (p: Promise<unknown>) => p.then(() => 'pulled', (e: PullError) => `${e.reason}: ${e.message}`);

  it('a file on the node is used where it is', async () => {
    const wasm = await helloWasm();
    expect(await pull(`file://${wasm}`)).toBe(wasm);
  });

  it('a ConfigMap module is cached by the digest of its bytes', async () => {
    const bytes = fs.readFileSync(await helloWasm());
    const file = await pull('configmap://mods/hello.wasm', { 'shop/mods': { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'mods' }, binaryData: { 'hello.wasm': bytes.toString('base64') } } });
    expect(path.basename(file)).toBe(`${sha256Of(await helloWasm())}.wasm`);
    expect(fs.readFileSync(file).equals(bytes)).toBe(true);
  });

  it.each([
    ['file:///nonexistent/m.wasm', {}, 'ErrImagePull: module file /nonexistent/m.wasm not found on this node'],
    ['configmap://mods/hello.wasm', {}, 'CreateContainerConfigError: configmap "mods" not found'],
    ['configmap://mods/other.wasm', { 'shop/mods': { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'mods' }, binaryData: {} } }, 'CreateContainerConfigError: configmap "mods" has no binaryData key "other.wasm"'],
    ['configmap://mods/hello.wasm', { 'other/mods': { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'mods' }, binaryData: { 'hello.wasm': 'AA==' } } }, 'CreateContainerConfigError: configmap "mods" not found'],
    ['https://example.invalid/m.wasm', {}, 'InvalidImageName: image "https://example.invalid/m.wasm": a module URL must end with its digest'],
    ['http://127.0.0.1:1/m.wasm#sha256=' + 'a'.repeat(64), {}, 'ErrImagePull: fetching http://127.0.0.1:1/m.wasm'],
  ])('%s → the waiting reason', async (image, configMaps, want) => {
    expect(await reasonOf(pull(image, configMaps))).toContain(want);
  });
});

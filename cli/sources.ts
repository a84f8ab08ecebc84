/**
 * The data sources of `create configmap|secret`, as kubectl reads them: `--from-literal=KEY=VALUE`,
 * `--from-file=[KEY=]PATH` (a file under its base name, or every regular file of a directory), and
 * `--from-env-file=PATH` (KEY=VALUE lines, `#` comments). A key given twice is an error. Files that are
 * not UTF-8 text go to binaryData (configmaps) — secrets are base64 anyway.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { SkiffError } from '../protocol/index.js';

/** The keys and their bytes. */
export type DataSources = Map<string, Buffer>;

const keyRule = /^[-._a-zA-Z0-9]+$/;

function add(out: DataSources, key: string, value: Buffer, owner: string): void {
  if (!keyRule.test(key) || key.length > 253) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `"${key}" is not a valid key name for a ${owner}: letters, digits, "-", "_" or "."`);
  if (out.has(key)) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `cannot add key ${key}, another key by that name already exists in data for ${owner}`);
  out.set(key, value);
}

/** Reads every source in kubectl's order: files, literals, env files. */
export function readSources(o: { files: string[]; literals: string[]; envFiles: string[] }, owner: string): DataSources {
  const out: DataSources = new Map();
  for (const f of o.files) {
    const eq = f.indexOf('=');
    const [key, path] = eq > 0 ? [f.slice(0, eq), f.slice(eq + 1)] : [undefined, f];
    let st;
    try {
      st = statSync(path);
    } catch {
      throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `error reading ${path}: no such file or directory`);
    }
    if (st.isDirectory()) {
      if (key) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `cannot give a key name for a directory path: ${f}`);
      for (const name of readdirSync(path).sort()) if (statSync(join(path, name)).isFile()) add(out, name, readFileSync(join(path, name)), owner);
    } else add(out, key ?? basename(path), readFileSync(path), owner);
  }
  for (const l of o.literals) {
    const eq = l.indexOf('=');
    if (eq <= 0) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `invalid literal source ${l}, expected key=value`);
    add(out, l.slice(0, eq), Buffer.from(l.slice(eq + 1)), owner);
  }
  for (const path of o.envFiles) {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch {
      throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `error reading ${path}: no such file or directory`);
    }
    text.split(/\r?\n/).forEach((line, i) => {
      const t = line.trimStart();
      if (t === '' || t.startsWith('#')) return;
      const eq = t.indexOf('=');
      if (eq <= 0) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `${path}:${i + 1}: "${t}" is not a valid env line, expected KEY=VALUE`);
      add(out, t.slice(0, eq), Buffer.from(t.slice(eq + 1)), owner);
    });
  }
  return out;
}

/** True when the bytes are valid UTF-8 (a configmap's data), else they go to binaryData. */
export function isUtf8(b: Buffer): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(b);
    return true;
  } catch {
    return false;
  }
}

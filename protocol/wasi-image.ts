/**
 * Where a WASI pod's module comes from (`image` with `runtimeClassName: wasi`), checked the same way at apply
 * time (protocol/resources/podspec.ts) and on the agent:
 *   file:///abs/path/m.wasm                    a file on the node;
 *   https://host/m.wasm#sha256=<64 hex>        fetched once, its digest checked, cached by digest on the node
 *                                              (http:// is taken as well: the digest, not the transport,
 *                                              makes it the module the manifest names);
 *   configmap://NAME/KEY                       `binaryData[KEY]` of a ConfigMap in the pod's namespace, which
 *                                              the master sends with the desired set to the node running it.
 */

/** A parsed module reference. */
export type ModuleImage = { kind: 'file'; path: string } | { kind: 'url'; url: string; sha256: string } | { kind: 'configmap'; name: string; key: string };

const dnsSubdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const configKey = /^[-._a-zA-Z0-9]+$/;

/** Parses `image` of a wasi container; the error names the rule broken. */
export function parseModuleImage(image: string): ModuleImage | { error: string } {
  if (image.startsWith('file://')) {
    const p = image.slice('file://'.length);
    if (!p.startsWith('/') || p.split('/').includes('..')) return { error: 'a file:// module must be an absolute path without "..", e.g. file:///opt/app/m.wasm' };
    return { kind: 'file', path: p };
  }
  if (image.startsWith('configmap://')) {
    const [name, key, ...rest] = image.slice('configmap://'.length).split('/');
    if (!name || !key || rest.length || !dnsSubdomain.test(name) || !configKey.test(key) || key === '.' || key === '..')
      return { error: 'a configmap:// module must be configmap://NAME/KEY (a ConfigMap name and one binaryData key)' };
    return { kind: 'configmap', name, key };
  }
  if (/^https?:\/\//.test(image)) {
    const hash = image.indexOf('#');
    const digest = hash >= 0 ? /^sha256=([0-9a-f]{64})$/.exec(image.slice(hash + 1)) : null;
    if (!digest) return { error: 'a module URL must end with its digest, #sha256=<64 lowercase hex digits>: the node checks what it fetched against it' };
    let url: URL;
    try {
      url = new URL(image.slice(0, hash));
    } catch {
      return { error: 'not a valid URL' };
    }
    return { kind: 'url', url: url.href, sha256: digest[1] };
  }
  return { error: 'a WASI module must be file:///path.wasm, https://host/path.wasm#sha256=<hex> or configmap://NAME/KEY' };
}

/**
 * Registry credentials from a pod's imagePullSecrets: `kubernetes.io/dockerconfigjson` Secrets (or the older
 * `dockercfg`), read from the desired set, keyed by registry host as their JSON has them (images.ts matches).
 */
import type { DesiredMessage } from '../../../protocol/messages.js';
import { own } from '../../../protocol/own.js';
import type { KObject } from '../../../protocol/types.js';
import type { RegistryAuths } from './types.js';

/** The credentials in Secrets `names` of namespace `ns`; a missing or malformed one gives none (the pull then says what the registry thinks). */
export function pullSecretAuths(ns: string, names: string[], secrets: DesiredMessage['secrets']): RegistryAuths {
  const out: RegistryAuths = {};
  for (const name of names) {
    const s = own(secrets, `${ns}/${name}`) as KObject | undefined;
    if (!s) continue; // kubelet too pulls without a missing pull secret (and the pull may fail for it)
    const data = (s.data ?? {}) as Record<string, string>;
    const raw = own(data, '.dockerconfigjson') ?? own(data, '.dockercfg');
    if (typeof raw !== 'string') continue;
    try {
      const parsed = JSON.parse(Buffer.from(raw, 'base64').toString('utf8')) as { auths?: RegistryAuths } & RegistryAuths;
      const auths = parsed && typeof parsed === 'object' && parsed.auths && typeof parsed.auths === 'object' ? parsed.auths : parsed;
      for (const [k, v] of Object.entries(auths ?? {})) if (v && typeof v === 'object') out[k] = v;
    } catch {
      // a malformed secret gives no credentials
    }
  }
  return out;
}

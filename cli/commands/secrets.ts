/**
 * `skiff secrets rotate-key`: a new key for Secrets at rest; the master re-seals every Secret with it and drops the
 * old key (master/api/handlers/secrets.ts). Cluster-wide admin access.
 */
import { SkiffError } from '../../protocol/index.js';
import type { Command } from '../args.js';

/** The secrets verb. */
export const secrets: Command = {
  summary: 'rotate the key that seals Secrets at rest (rotate-key)',
  usage: `Usage:
  skiff secrets rotate-key

Adds a new AES-256-GCM key to DATA/encryption-config.json on the master, re-seals every Secret with
it, compacts the store's change history and drops the old key. Backups taken before the rotation
need the old key to be restored: take a new backup afterwards (docs/security.md).
`,
  options: {},
  async run(ctx, _values, positionals) {
    const [action, extra] = positionals;
    if (action !== 'rotate-key') throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `skiff secrets: expected rotate-key, got ${action ? `"${action}"` : 'nothing'}`);
    if (extra !== undefined) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `skiff secrets rotate-key: unexpected argument "${extra}"`);
    const res = await (await ctx.api()).request<{ key: string; secrets: number; resealed: number; dropped: string[] }>('secrets', { action: 'rotate-key' });
    ctx.io.stdout(`secrets sealed with key "${res.key}": ${res.resealed} of ${res.secrets} re-sealed; dropped ${res.dropped.length ? res.dropped.map((k) => `"${k}"`).join(', ') : 'no key'}\n`);
    return 0;
  },
};

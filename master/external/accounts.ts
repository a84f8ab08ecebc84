/**
 * Keeps an external broker's accounts in step with the cluster's credentials (docs/ha.md): a node credential, a
 * user token, the admin token and each working join token is one dynamic-security client with a role of its own
 * (roles.ts). Node and user accounts are made when the credential is issued — the only moment the secret is in
 * hand (the store keeps digests) — and deleted when it is revoked, which also disconnects them. Joiner accounts
 * follow the join tokens (their secrets are in the store), on every change and at start.
 */
import { connectKey } from '../../protocol/join.js';
import { joinTag, joinUser } from '../../protocol/external-topics.js';
import type { Logger } from '../../protocol/index.js';
import type { Access, CredentialSink, Credentials } from '../credentials.js';
import type { DynsecAdmin } from './dynsec.js';
import { joinRole, nodeRole, userRole } from './roles.js';

/** The accounts of one cluster on one broker. */
export class ExternalAccounts implements CredentialSink {
  /** Join tag → token name, for the tokens that work now. */
  private tags = new Map<string, string>();
  /** Tags this master made accounts for (so it deletes those of tokens gone since). */
  private readonly made = new Set<string>();
  private syncing: Promise<void> = Promise.resolve();

  constructor(
    private readonly dynsec: DynsecAdmin,
    private readonly credentials: Credentials,
    private readonly log: Logger,
  ) {}

  /** Makes the admin's and the join tokens' accounts, and follows the credentials from now on. */
  async start(): Promise<void> {
    const admin = userRole({ role: 'admin', name: 'admin' });
    await this.dynsec.putRole(admin);
    await this.dynsec.putClient('admin', this.credentials.adminToken, admin.rolename);
    this.credentials.sink = this;
    this.credentials.joinTokens.onChange = () => void this.syncJoins();
    await this.syncJoins();
  }

  /** The name of the join token whose joiners publish under `joins/{tag}/`, while it works. */
  tokenOfTag(tag: string): string | undefined {
    return this.tags.get(tag);
  }

  async nodeIssued(node: string, secret: string): Promise<void> {
    const role = nodeRole(node);
    await this.dynsec.putRole(role);
    await this.dynsec.putClient(node, secret, role.rolename);
  }

  async nodeRevoked(node: string): Promise<void> {
    await this.dynsec.deleteClient(node, nodeRole(node).rolename);
  }

  async tokenCreated(name: string, secret: string, scope: { access: Access; namespace?: string }): Promise<void> {
    const role = userRole({ role: 'user', name, ...scope });
    await this.dynsec.putRole(role);
    await this.dynsec.putClient(name, secret, role.rolename);
  }

  async tokenRevoked(name: string): Promise<void> {
    await this.dynsec.deleteClient(name, `skiff-user-${name}`);
  }

  /** Puts the accounts of working join tokens, deletes those of tokens gone; one run at a time. */
  syncJoins(): Promise<void> {
    this.syncing = this.syncing.then(() => this.syncJoinsNow()).catch((err) => this.log.error('cannot update the joiner accounts on the broker', { err }));
    return this.syncing;
  }

  private async syncJoinsNow(): Promise<void> {
    const tags = new Map<string, string>();
    for (const { name, secret } of this.credentials.joinTokens.workingSecrets()) {
      const tag = joinTag(secret);
      tags.set(tag, name);
      if (this.made.has(tag)) continue;
      const role = joinRole(tag);
      await this.dynsec.putRole(role);
      await this.dynsec.putClient(joinUser(secret), connectKey(secret), role.rolename);
      this.made.add(tag);
    }
    this.tags = tags;
    for (const tag of [...this.made]) {
      if (tags.has(tag)) continue;
      await this.dynsec.deleteClient(`skiff-join-${tag}`, joinRole(tag).rolename);
      this.made.delete(tag);
    }
  }
}

/**
 * Mosquitto's dynamic-security plugin, driven over MQTT: commands on `$CONTROL/dynamic-security/v1`, answers on
 * `.../response` (https://mosquitto.org/documentation/dynamic-security/). The masters' broker account holds the
 * control topics (roles.ts `masterRole`). Every call is idempotent: "already exists" when creating and "not
 * found" when deleting count as done, so several masters, or a master retrying after a lost answer, agree.
 */
import { randomBytes } from 'node:crypto';
import type { MqttClient } from 'mqtt';
import { SkiffError } from '../../protocol/index.js';
import type { DynsecRole } from './roles.js';

const CONTROL = '$CONTROL/dynamic-security/v1';
const RESPONSE = `${CONTROL}/response`;
/** How long one command may wait for its answer. */
const ANSWER_TIMEOUT_MS = 10_000;

/** One command as the plugin takes it. */
type Command = { command: string } & Record<string, unknown>;
interface Answer {
  command: string;
  error?: string;
  correlationData?: string;
}

/** A dynamic-security administrator over one MQTT connection. */
export class DynsecAdmin {
  private readonly waiting = new Map<string, (a: Answer) => void>();

  private constructor(private readonly client: MqttClient) {
    client.on('message', (topic, payload) => {
      if (topic !== RESPONSE) return;
      let answers: Answer[] = [];
      try {
        answers = (JSON.parse(payload.toString('utf8')) as { responses?: Answer[] }).responses ?? [];
      } catch {
        return;
      }
      for (const a of answers) if (typeof a.correlationData === 'string') this.waiting.get(a.correlationData)?.(a);
    });
  }

  /** Subscribes to the answers; throws SKIFF_ERR_FORBIDDEN when the account may not administer dynamic security. */
  static async attach(client: MqttClient): Promise<DynsecAdmin> {
    try {
      await client.subscribeAsync(RESPONSE, { qos: 1 });
    } catch (err) {
      throw new SkiffError('SKIFF_ERR_FORBIDDEN', `--broker: the masters' broker account may not read ${RESPONSE} (give it the dynamic-security admin role; skiff broker-config does): ${(err as Error).message}`);
    }
    return new DynsecAdmin(client);
  }

  /** Sends one command and returns the plugin's error text ('' when it succeeded). */
  async run(cmd: Command): Promise<string> {
    const id = randomBytes(8).toString('hex');
    const answer = new Promise<Answer>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new SkiffError('SKIFF_ERR_TIMEOUT', `the broker's dynamic-security plugin did not answer ${cmd.command} within ${ANSWER_TIMEOUT_MS / 1000} s (is the plugin loaded?)`));
      }, ANSWER_TIMEOUT_MS);
      this.waiting.set(id, (a) => {
        clearTimeout(timer);
        this.waiting.delete(id);
        resolve(a);
      });
    });
    await this.client.publishAsync(CONTROL, JSON.stringify({ commands: [{ ...cmd, correlationData: id }] }), { qos: 1 });
    return (await answer).error ?? '';
  }

  /** Runs a command that must succeed, or fail only with an error matching `tolerated`. */
  private async must(cmd: Command, tolerated?: RegExp): Promise<void> {
    const err = await this.run(cmd);
    if (err && !tolerated?.test(err)) throw new SkiffError('SKIFF_ERR_UNAVAILABLE', `broker dynamic security: ${cmd.command} ${String(cmd.username ?? cmd.rolename ?? '')}: ${err}`);
  }

  /** Creates a role with its ACLs, or replaces the ACLs of the role of that name. */
  async putRole(role: DynsecRole): Promise<void> {
    const err = await this.run({ command: 'createRole', rolename: role.rolename, acls: role.acls });
    if (!err) return;
    if (!/already exists/i.test(err)) throw new SkiffError('SKIFF_ERR_UNAVAILABLE', `broker dynamic security: createRole ${role.rolename}: ${err}`);
    // The role exists (another master, an earlier run): its ACLs are a function of its name, but rewrite them so a
    // changed rule reaches roles made by an older master.
    for (const acl of role.acls) await this.must({ command: 'addRoleACL', rolename: role.rolename, ...acl }, /already exists/i);
  }

  /** Creates a client (broker account) with one role, or sets the password and role of the one of that name. */
  async putClient(username: string, password: string, rolename: string): Promise<void> {
    const err = await this.run({ command: 'createClient', username, password, roles: [{ rolename }] });
    if (!err) return;
    if (!/already exists/i.test(err)) throw new SkiffError('SKIFF_ERR_UNAVAILABLE', `broker dynamic security: createClient ${username}: ${err}`);
    await this.must({ command: 'setClientPassword', username, password });
    // Mosquitto 2.0.11 answers a role the client already has with "Internal error" (later versions: "already exists").
    await this.must({ command: 'addClientRole', username, rolename }, /already|internal error/i);
  }

  /** Deletes a client (the broker disconnects it) and its role; what is already gone is done. */
  async deleteClient(username: string, rolename: string): Promise<void> {
    await this.must({ command: 'deleteClient', username }, /not found/i);
    await this.must({ command: 'deleteRole', rolename }, /not found/i);
  }
}

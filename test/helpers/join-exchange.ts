/**
 * One join exchange by hand (hello → challenge → proof → result), with the ephemeral key chosen by the test: for
 * retries of one joiner (the same key) and claims by another (a new key) — master/nodes/join-retry.ts. Works on the
 * embedded broker (`join/{session}`, logged in as the node) and on an external one (`joins/{tag}/{session}`, logged
 * in with the join token's account).
 */
import mqtt from 'mqtt';
import { decode, encode, topics, type JoinResult } from '../../protocol/index.js';
import { externalTopics, joinTag, joinUser } from '../../protocol/external-topics.js';
import { agentProof, connectKey, ephemeralKey, masterProof, newJoinSession, newNonce, openGrant, proofMatches, transcriptOf, type EphemeralKey } from '../../protocol/join.js';
import { joinSecret } from '../../protocol/join-token.js';

export { ephemeralKey };

/** The outcome: the credential (opened with `key`) or the master's error. */
export type Outcome = { ok: true; credential: string } | { ok: false; code: string; message: string };

/** Runs one exchange for `node` with `key`; `external` uses the external broker's accounts and topics. */
export async function joinExchange(url: string, token: string, node: string, key: EphemeralKey, external = false): Promise<Outcome> {
  const secret = joinSecret(token);
  const tag = joinTag(secret);
  const session = newJoinSession();
  const req = external ? externalTopics.joinReq(tag, session) : topics.joinReq(session);
  const res = external ? externalTopics.joinRes(tag, session) : topics.joinRes(session);
  const client = await mqtt.connectAsync(url, { protocolVersion: 4, username: external ? joinUser(secret) : node, password: connectKey(secret), clientId: `join-test-${session.slice(0, 12)}`, reconnectPeriod: 0 });
  try {
    const hello = encode({ step: 'hello', node, nonce: newNonce(), key: key.publicKey, dialled: 'test:0', discovered: false, facts: { hostname: node, arch: 'amd64', os: 'linux', kernel: 'test', cpus: 1, memoryBytes: 1 << 30, agentVersion: 'test', nodeVersion: 'test' } });
    let transcript: Buffer | undefined;
    const result = new Promise<Outcome>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`join exchange for ${node}: no result within 10 s`)), 10_000);
      client.on('message', (_t, payload) => {
        const m = decode<{ step: string; nonce?: string; proof?: string }>(payload).value;
        if (m.step === 'challenge') {
          transcript = transcriptOf(hello, String(m.nonce));
          if (!proofMatches(masterProof(secret, transcript), m.proof)) return reject(new Error('the master could not prove the token'));
          void client.publishAsync(req, encode({ step: 'proof', proof: agentProof(secret, transcript) }), { qos: 1 });
          return;
        }
        clearTimeout(timer);
        const r = m as unknown as JoinResult;
        if (r.ok) resolve({ ok: true, credential: openGrant(r, key, transcript!).credential });
        else resolve({ ok: false, code: r.error.code, message: r.error.message });
      });
    });
    await client.subscribeAsync(res, { qos: 1 });
    await client.publishAsync(req, hello, { qos: 1 });
    return await result;
  } finally {
    await client.endAsync(true);
  }
}

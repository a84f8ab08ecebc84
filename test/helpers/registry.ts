/**
 * A private image registry for pull tests: Debian's docker-registry (the CNCF distribution registry 2.8) in the
 * test Podman's network namespace, on an ephemeral port of its loopback, storage under the Podman's temp dir,
 * htpasswd authentication (one user, bcrypt by bcryptjs). Plain HTTP: the test Podman's registries.conf marks
 * it insecure (test/helpers/podman.ts), which is why it is started before the Podman API service.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import bcrypt from 'bcryptjs';
import { eventually } from './wait.js';

/** A running registry. */
export interface Registry {
  /** `127.0.0.1:PORT` (inside the namespace). */
  host: string;
  user: string;
  password: string;
  /** A dockerconfigjson Secret's `.dockerconfigjson` value (base64) for this registry's user. */
  dockerConfigJson: string;
  stop(): Promise<void>;
}

/** True when Debian's docker-registry is installed (CI: .ci/run installs it). */
export const haveRegistry = () => fs.existsSync('/usr/bin/docker-registry');

/** Starts the registry in namespace `ns` (the command prefix `nsenter`), state under `dir`. */
export async function startRegistry(dir: string, nsenter: string[]): Promise<Registry> {
  const user = 'skiff';
  const password = `pw-${process.pid}`;
  fs.mkdirSync(path.join(dir, 'registry'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'htpasswd'), `${user}:${bcrypt.hashSync(password, 8)}\n`);
  const config = path.join(dir, 'registry.yml');
  fs.writeFileSync(
    config,
    ['version: 0.1', 'log: {level: info}', `storage: {filesystem: {rootdirectory: ${path.join(dir, 'registry')}}}`, 'http: {addr: "127.0.0.1:0", secret: test}', `auth: {htpasswd: {realm: skiff-test, path: ${path.join(dir, 'htpasswd')}}}`, ''].join('\n'),
  );
  const logFile = path.join(dir, 'registry.log');
  const log = fs.openSync(logFile, 'a');
  const child: ChildProcess = spawn(nsenter[0], [...nsenter.slice(1), 'docker-registry', 'serve', config], { cwd: dir, stdio: ['ignore', log, log] });
  fs.closeSync(log);
  const m = await eventually(() => /listening on 127\.0\.0\.1:(\d+)/.exec(fs.readFileSync(logFile, 'utf8')), 'the registry listening', 10_000, 50);
  const host = `127.0.0.1:${m[1]}`;
  const auth = Buffer.from(`${user}:${password}`).toString('base64');
  return {
    host,
    user,
    password,
    dockerConfigJson: Buffer.from(JSON.stringify({ auths: { [host]: { auth } } })).toString('base64'),
    async stop() {
      if (child.exitCode !== null) return;
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([gone, new Promise((r) => setTimeout(r, 3000))]);
      child.kill('SIGKILL');
    },
  };
}

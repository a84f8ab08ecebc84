import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { asKind, normalizeObject, parseManifests } from '../../protocol/index.js';

const text = readFileSync(new URL('../../examples/hello.yaml', import.meta.url), 'utf8');

describe('examples/hello.yaml (the skiff up app)', () => {
  const objects = parseManifests(text, 'examples/hello.yaml').map((d) => normalizeObject(d));

  it('is a valid Deployment (2 process replicas, port 0) and a Service selecting its pods', () => {
    expect(objects.map((o) => o.kind)).toEqual(['Deployment', 'Service']);
    const [deploy, svc] = [asKind(objects[0], 'Deployment'), asKind(objects[1], 'Service')];
    expect(deploy.spec.replicas).toBe(2);
    expect(deploy.spec.template.spec.runtimeClassName).toBe('process');
    expect(deploy.spec.template.spec.containers[0].ports?.[0]).toMatchObject({ name: 'http', containerPort: 0 });
    expect(deploy.spec.template.metadata?.labels).toMatchObject(svc.spec.selector ?? {});
  });

  it('its inline server answers HTTP on $PORT', async () => {
    const deploy = asKind(objects[0], 'Deployment');
    const [cmd, ...args] = deploy.spec.template.spec.containers[0].command as string[];
    expect(cmd).toBe('node');
    const port = await freePort();
    const child = spawn(process.execPath, args, { env: { ...process.env, PORT: String(port) }, stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const [line] = await once(child.stdout!, 'data');
      expect(String(line)).toBe(`listening on ${port}\n`);
      const body = await (await fetch(`http://127.0.0.1:${port}/`)).text();
      expect(body).toMatch(new RegExp(`^hello from .+ \\(pid ${child.pid}, port ${port}\\)\\n$`));
    } finally {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

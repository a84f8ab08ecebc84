/**
 * `skiff port-forward TYPE/NAME [LOCAL:]REMOTE...`, as kubectl port-forward: listens on local ports and
 * carries each connection to the pod's port over MQTT (CLI → master → the pod's agent → the pod), so it
 * works wherever the CLI and the agent can reach the broker, NAT included. `svc/NAME` picks a running pod
 * of the service and maps the service port to its targetPort; `deploy/NAME` and the like pick one of
 * their pods as kubectl does. Every connection has its own stream with end-to-end flow control
 * (protocol/flow.ts). Ctrl-C stops.
 */
import net from 'node:net';
import { Acker, Credit, SkiffError, chunks, isReady, type ApiResponse, type Pod, type Service } from '../../protocol/index.js';
import { namespaceOption, str, strs, type Command } from '../args.js';
import { podsOf } from '../pods.js';
import { defaultNamespace } from '../target.js';
import type { Api, CommandContext } from '../types.js';

/** One forwarded port: where to listen and what to reach in the pod (a number, or a port name). */
interface Mapping {
  local: number;
  remote: number | string;
  /** As the user wrote the remote side (for messages). */
  shown: string;
}

/** Parses `8080:80`, `:80` (any free local port), `80` (the same port locally). */
export function parseMappings(args: string[]): Mapping[] {
  if (args.length === 0) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', 'TYPE/NAME and at least one [LOCAL_PORT:]REMOTE_PORT are required for port-forward');
  return args.map((a) => {
    const colon = a.indexOf(':');
    const [localText, remoteText] = colon < 0 ? [a, a] : [a.slice(0, colon), a.slice(colon + 1)];
    const port = (s: string) => (/^\d+$/.test(s) && Number(s) >= 1 && Number(s) <= 65535 ? Number(s) : undefined);
    const remote = port(remoteText) ?? (/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(remoteText) && !/^\d+$/.test(remoteText) ? remoteText : undefined);
    const local = localText === '' || localText === '0' ? 0 : port(localText);
    if (remote === undefined || local === undefined) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `invalid port mapping "${a}": must be [LOCAL_PORT:]REMOTE_PORT, ports 1-65535 (or a port name remotely)`);
    if (typeof remote === 'string' && !a.includes(':')) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `invalid port mapping "${a}": a named port needs a local port, e.g. 8080:${remote}`);
    return { local, remote, shown: String(remote) };
  });
}

/** The port-forward verb. */
export const portForward: Command = {
  summary: 'forward local ports to a pod (through the master, so it works through NAT)',
  usage: `Usage:
  skiff port-forward TYPE/NAME [LOCAL_PORT:]REMOTE_PORT... [--address ADDR] [-n NS]

Examples:
  skiff port-forward pod/web-7d9c-x2x1 8080:80
  skiff port-forward svc/hello 8080:80          (a running pod of the service; 80 maps to its targetPort)
  skiff port-forward deploy/web :http           (any free local port to the pods' port named http)

Flags:
  --address ADDR           where to listen: localhost (default: 127.0.0.1), or an IP address; repeatable
  --pod-running-timeout D  how long to wait for a running pod (default 1m)
  -n, --namespace NS       the namespace (default: the context's, else "default")
`,
  options: { ...namespaceOption, address: { type: 'string', multiple: true }, 'pod-running-timeout': { type: 'string' } },
  async run(ctx, values, positionals) {
    const [target, ...ports] = positionals;
    if (!target) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', 'TYPE/NAME and at least one [LOCAL_PORT:]REMOTE_PORT are required for port-forward');
    const mappings = parseMappings(ports);
    const namespace = str(values, 'namespace') ?? defaultNamespace;
    const addresses = strs(values, 'address').flatMap((a) => a.split(',')).map((a) => (a === 'localhost' ? '127.0.0.1' : a));
    const api = await ctx.api();
    const { pod, remote } = await resolveTarget(api, target, namespace, mappings);
    const servers: net.Server[] = [];
    const sockets = new Set<net.Socket>();
    try {
      for (const [i, m] of mappings.entries())
        for (const address of addresses.length ? addresses : ['127.0.0.1']) {
          const server = net.createServer((sock) => {
            sockets.add(sock);
            sock.once('close', () => sockets.delete(sock));
            ctx.io.stdout(`Handling connection for ${(server.address() as net.AddressInfo).port}\n`);
            forward(ctx, api, pod, remote[i], sock);
          });
          await new Promise<void>((resolve, reject) => {
            server.once('error', (err: NodeJS.ErrnoException) => reject(new SkiffError('SKIFF_ERR_UNAVAILABLE', `unable to listen on ${address}:${m.local}: ${err.code === 'EADDRINUSE' ? 'address already in use' : err.message}`)));
            server.listen(m.local, address, () => resolve());
          });
          servers.push(server);
          const port = (server.address() as net.AddressInfo).port;
          ctx.io.stdout(`Forwarding from ${address.includes(':') ? `[${address}]` : address}:${port} -> ${m.shown}\n`);
        }
      await new Promise<void>((resolve) => (ctx.io.signal?.aborted ? resolve() : ctx.io.signal?.addEventListener('abort', () => resolve(), { once: true })));
      return 0;
    } finally {
      for (const s of sockets) s.destroy();
      await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
    }
  },
};

/** The pod to reach and, per mapping, the pod's port (a service port becomes its targetPort). */
async function resolveTarget(api: Api, target: string, namespace: string, mappings: Mapping[]): Promise<{ pod: Pod; remote: (number | string)[] }> {
  const slash = target.indexOf('/');
  const [type, name] = slash < 0 ? ['pod', target] : [target.slice(0, slash), target.slice(slash + 1)];
  const pods = (await podsOf(api, type, name, namespace)).filter((p) => p.status?.phase === 'Running');
  const pod = pods.find((p) => isReady(p)) ?? pods[0];
  if (!pod) throw new SkiffError('SKIFF_ERR_UNAVAILABLE', `unable to forward port because pod is not running${slash < 0 || /^(pods?|po)$/.test(type) ? '' : ` (no running pod for ${target})`}`);
  if (!/^(services?|svc)$/.test(type)) return { pod, remote: mappings.map((m) => m.remote) };
  const svc = await api.request<Service>('get', { kind: 'Service', name, namespace });
  const remote = mappings.map((m) => {
    const sp = (svc.spec?.ports ?? []).find((p) => p.port === m.remote || p.name === m.remote);
    if (!sp) throw new SkiffError('SKIFF_ERR_NOT_FOUND', `Service ${name} does not have a service port ${m.shown}`);
    return sp.targetPort ?? sp.port;
  });
  return { pod, remote };
}

/** Carries one local connection: a `portforward` stream, pieces both ways under credit. */
function forward(ctx: CommandContext, api: Api, pod: Pod, port: number | string, sock: net.Socket): void {
  const stop = new AbortController();
  let ref = '';
  const input = (piece: Record<string, unknown>) => api.notify('input', { ref, ...piece });
  const credit = new Credit(
    () => sock.pause(),
    () => sock.resume(),
  );
  const acker = new Acker((n) => input({ ack: n }));
  sock.pause(); // until the pod's side is connected: pieces before that would find no stream
  sock.on('data', (b: Buffer) => {
    for (const c of chunks(b)) {
      input({ data: c });
      credit.spend(c.length);
    }
  });
  sock.on('end', () => input({ fin: true }));
  sock.on('error', () => undefined);
  sock.on('close', () => {
    acker.close();
    stop.abort();
  });
  const onPiece = (res: ApiResponse) => {
    if (res.ack !== undefined) {
      if (res.ack === 0) sock.resume();
      else credit.refund(res.ack);
    }
    if (res.data) {
      const n = res.data.length;
      sock.write(res.data, () => acker.add(n));
    }
    if (res.fin) sock.end();
  };
  api
    .stream('portforward', { name: pod.metadata.name, namespace: pod.metadata.namespace, port }, onPiece, stop.signal, (id) => (ref = id))
    .then(
      () => sock.end(),
      (err) => {
        ctx.io.stderr(`error: ${err instanceof Error ? err.message : String(err)}\n`);
        sock.destroy();
      },
    );
}

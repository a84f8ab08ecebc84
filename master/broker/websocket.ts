/**
 * MQTT over WebSocket on the master's HTTP port (`/mqtt`, subprotocol `mqtt`): how the dashboard — or
 * any browser MQTT client — talks to the master. Each WebSocket becomes a stream handed to the broker's
 * `accept`, the same entry TCP connections use, so the browser is just another MQTT client: the same
 * CONNECT authentication (user name and token), the same topic ACL, the same API verbs.
 *
 * No cookies or ambient credentials are involved (the token travels inside the MQTT CONNECT), so a
 * page of another origin that opens this WebSocket gains nothing it could not do with the token itself;
 * the Origin is not checked, as for the MQTT TCP port.
 */
import type { IncomingMessage } from 'node:http';
import type { Server } from 'node:https';
import type { Socket } from 'node:net';
import { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Broker } from './index.js';

/** The path of the MQTT WebSocket endpoint. */
export const mqttWebSocketPath = '/mqtt';
/** The largest WebSocket message taken (one MQTT packet may span several, the broker bounds packets itself); 4 MiB. */
const maxMessageBytes = 4 << 20;

/** A running WebSocket endpoint. */
export interface MqttWebSocket {
  /** Connected WebSockets now. */
  readonly clients: number;
  /** Closes every WebSocket (the HTTP server cannot finish closing while one is open). */
  close(): void;
}

/** Serves MQTT over WebSocket at `/mqtt` of `http`, into `broker`. Other upgrade requests are refused. */
export function serveMqttOverWebSocket(http: Server, broker: Pick<Broker, 'accept'>): MqttWebSocket {
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: maxMessageBytes,
    // MQTT.js asks for the `mqtt` subprotocol (MQTT 3.1.1 over WebSocket, [MQTT-6.0.0-3]); pick it when offered.
    handleProtocols: (protocols) => (protocols.has('mqtt') ? 'mqtt' : protocols.has('mqttv3.1') ? 'mqttv3.1' : false),
    // Watch events are JSON with much repetition: deflate cuts a dashboard's first load several times over.
    perMessageDeflate: { threshold: 1024, zlibDeflateOptions: { level: 3, memLevel: 7 }, serverMaxWindowBits: 13, concurrencyLimit: 4 },
  });
  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = (req.url ?? '').split('?')[0];
    if (path !== mqttWebSocketPath) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => broker.accept(streamOf(ws), socket as Socket, req));
  };
  http.on('upgrade', onUpgrade);
  return {
    get clients() {
      return wss.clients.size;
    },
    close() {
      http.off('upgrade', onUpgrade);
      for (const ws of wss.clients) ws.terminate();
      wss.close();
    },
  };
}

/**
 * A WebSocket as the byte stream aedes reads and writes. Unlike ws' createWebSocketStream, ending it
 * closes the WebSocket gracefully, after the frames already queued: aedes answers a refused CONNECT
 * with a CONNACK and closes at once, and the client must still read that CONNACK (code 4 or 5) to
 * tell a bad token from a network failure. ws terminates a peer that never finishes the close (30 s).
 */
function streamOf(ws: WebSocket): Duplex {
  const stream = new Duplex({
    read() {},
    // Straight into ws' own ordered queue, so a close right after a write still sends it; the callback
    // is awaited only past 1 MiB in flight (back-pressure on a slow browser).
    write(chunk: Buffer, _encoding, done) {
      if (ws.readyState !== ws.OPEN) return done();
      if (ws.bufferedAmount < 1 << 20) {
        ws.send(chunk, { binary: true });
        return done();
      }
      ws.send(chunk, { binary: true }, (err) => done(err ?? null));
    },
    final(done) {
      ws.close(1000);
      done();
    },
    destroy(err, done) {
      if (ws.readyState === ws.OPEN || ws.readyState === ws.CONNECTING) ws.close(1000);
      done(err);
    },
  });
  ws.on('message', (data: Buffer) => stream.push(data));
  ws.on('close', () => {
    stream.push(null);
    stream.destroy();
  });
  ws.on('error', () => ws.terminate());
  return stream;
}

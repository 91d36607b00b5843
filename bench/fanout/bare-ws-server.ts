/**
 * Baseline 1, the naive ceiling: a plain `ws` broadcaster.
 *
 * Every WebSocket on any path is a subscriber; `POST /publish` serializes the envelope once and
 * sends the same string to every client. It also greets each client with `connection.ready`,
 * as uhs-realtime does, so that connect times compare.
 *
 *   node --import tsx bench/fanout/bare-ws-server.ts --port 9101
 */
import http from 'node:http';
import { WebSocketServer } from 'ws';
import { announce, baselineHttpHandler, makeEnvelope, portFromArgs } from './baseline-http.js';

const port = portFromArgs(process.argv.slice(2));

const server = http.createServer(
  baselineHttpHandler((envelope) => {
    const text = JSON.stringify(envelope);
    for (const client of wss.clients) client.send(text);
  }),
);
const wss = new WebSocketServer({ server, perMessageDeflate: false });

wss.on('connection', (socket) => {
  socket.on('error', () => socket.terminate());
  socket.send(JSON.stringify(makeEnvelope('connection.ready', { server: 'bare-ws' })));
});

server.listen(port, '127.0.0.1', 4096, () => {
  const address = server.address();
  announce('bare-ws', typeof address === 'object' && address ? address.port : port);
});

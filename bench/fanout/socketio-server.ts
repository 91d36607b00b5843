/**
 * Baseline 2: a Socket.IO 4 server doing the same job.
 *
 * A client names its role in the handshake (`auth.role`, or `?role=`) and joins the room
 * `role:<role>`; `POST /publish` emits the envelope to `role:admin` as the `event` event
 * (Socket.IO encodes a room broadcast once). WebSocket transport only, no HTTP polling.
 *
 *   node --import tsx bench/fanout/socketio-server.ts --port 9102
 */
import http from 'node:http';
import { Server } from 'socket.io';
import { announce, baselineHttpHandler, portFromArgs } from './baseline-http.js';

const port = portFromArgs(process.argv.slice(2));

const server = http.createServer(
  baselineHttpHandler((envelope) => {
    io.to('role:admin').emit('event', envelope);
  }),
);
const io = new Server(server, { transports: ['websocket'], serveClient: false, perMessageDeflate: false });

function roleOf(auth: Record<string, unknown>, query: Record<string, unknown>): string {
  const role = auth.role ?? query.role;
  return typeof role === 'string' && role !== '' ? role : 'admin';
}

io.on('connection', (socket) => {
  void socket.join(`role:${roleOf(socket.handshake.auth, socket.handshake.query)}`);
});

server.listen(port, '127.0.0.1', 4096, () => {
  const address = server.address();
  announce('socketio', typeof address === 'object' && address ? address.port : port);
});

/**
 * The two servers ours is compared with, each run as the child process the bench starts:
 *
 *   node --import tsx bench/yjs/ref-servers.ts hocuspocus   (@hocuspocus/server 4, no extensions: nothing persisted)
 *
 * The y-websocket 1.5.4 reference needs no wrapper: the bench runs its own `bin/server.js` (which serves every
 * connection with `bin/utils.js` `setupWSConnection`), installed under the npm alias `y-websocket-server-ref`.
 */
import { Server } from '@hocuspocus/server';

const kind = process.argv[2];
const port = Number(process.env.PORT);
if (kind !== 'hocuspocus' || !Number.isInteger(port)) {
  process.stderr.write('usage: PORT=N ref-servers.ts hocuspocus\n');
  process.exit(2);
}
const server = new Server({ port, address: '127.0.0.1', quiet: true, stopOnSignals: true });
await server.listen();
process.stdout.write(`listening on ${port}\n`);

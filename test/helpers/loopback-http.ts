import { once } from 'node:events';
import { createServer as createHttpServer, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import { onCleanup } from './cleanup.js';

/**
 * A plain HTTP server on 127.0.0.1, closed (its connections too) after the test file; resolves with its origin.
 * Stub services (JWKS, authorizer, AI provider) and the pages of browser tests are served this way — pages on their
 * own origin: Chromium's local-network-access checks refuse a page it cannot place on an address (e.g. one served
 * through Playwright's page.route) to open sockets to 127.0.0.1.
 */
export async function serveLoopback(handler: RequestListener): Promise<string> {
  const server = createHttpServer(handler);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  onCleanup(() => {
    server.closeAllConnections();
    server.close();
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

import type { FastifyPluginAsync } from 'fastify';
import type { CollabService } from '../../features/collab/collab-service.js';
import { DOC_ID_PATTERN } from '../../protocol/yjs-messages.js';
import { requireApiKey } from './api-key.js';
import { sendError } from './errors.js';

export interface DocRoutesOptions {
  readonly apiKey: string;
  readonly collab: CollabService;
}

/** The service API of collaborative documents (SPEC §4): a document's current state as a binary Yjs update. */
export function docRoutes(options: DocRoutesOptions): FastifyPluginAsync {
  return async (app) => {
    app.addHook('preHandler', requireApiKey(options.apiKey));

    app.get<{ Params: { docId: string } }>('/api/v1/docs/:docId', async (request, reply) => {
      const { docId } = request.params;
      if (!DOC_ID_PATTERN.test(docId)) return sendError(reply, 400, 'invalid_doc_id');
      const state = await options.collab.documentState(docId);
      if (!state) return sendError(reply, 404, 'not_found', 'no such document');
      return reply.code(200).type('application/octet-stream').send(Buffer.from(state.buffer, state.byteOffset, state.byteLength));
    });
  };
}

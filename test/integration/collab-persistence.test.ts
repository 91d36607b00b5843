import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import * as Y from 'yjs';
import { createDatabase } from '../../src/adapters/db/database.js';
import { addParagraph, docReaches, fragmentText, nextClose, synced, yClient } from '../helpers/collab-clients.js';
import { freePort } from '../helpers/child-server.js';
import { onCleanup } from '../helpers/cleanup.js';
import { createTestDatabase } from '../helpers/postgres.js';
import { startServer, tempDir, type TestServer } from '../helpers/server.js';

const DIALECTS = [
  { name: 'sqlite', url: async () => `sqlite:${join(tempDir(), 'collab.db')}` },
  { name: 'postgres', url: createTestDatabase },
] as const;

for (const dialect of DIALECTS) {
  describe(`document persistence on ${dialect.name}`, () => {
    test('a document survives a restart; staff sessions live in staff_collab_sessions', async () => {
      const url = await dialect.url();
      const first = await startServer({ DATABASE_URL: url });
      const a = yClient(first.wsUrl, 'persist-1', await first.token('alice', 'student'));
      const s = yClient(first.wsUrl, 'staff-session:42', await first.token('sam', 'staff'));
      await Promise.all([synced(a), synced(s)]);
      addParagraph(a.doc, 'kept across restarts');
      addParagraph(s.doc, 'staff notes');
      const text = fragmentText(a.doc);
      const staffText = fragmentText(s.doc);
      // wait until the server has it (a late joiner sees it), then stop the server gracefully
      const probe = yClient(first.wsUrl, 'persist-1', await first.token('pat', 'student'));
      await synced(probe);
      await docReaches(probe.doc, (d) => fragmentText(d) === text);
      a.destroy();
      s.destroy();
      probe.destroy();
      await first.close();

      const database = createDatabase(url);
      onCleanup(() => database.close());
      const staffRow = await database.db.selectFrom('staff_collab_sessions').selectAll().where('session_id', '=', '42').executeTakeFirst();
      assert.ok(staffRow, 'the staff session was saved under its session id');
      const stored = new Y.Doc();
      Y.applyUpdate(stored, new Uint8Array(staffRow.yjs_state));
      assert.equal(fragmentText(stored), staffText);
      const docRows = await database.db.selectFrom('yjs_documents').select('doc_id').execute();
      assert.deepEqual(docRows.map((r) => r.doc_id), ['persist-1']);
      const log = await database.db.selectFrom('yjs_updates').select('id').execute();
      assert.equal(log.length, 0, 'shutdown compacted the log');

      const second = await startServer({ DATABASE_URL: url });
      const b = yClient(second.wsUrl, 'persist-1', await second.token('bob', 'student'));
      await synced(b);
      assert.equal(fragmentText(b.doc), text);
      const api = await second.api('/api/v1/docs/staff-session:42');
      const viaApi = new Y.Doc();
      Y.applyUpdate(viaApi, new Uint8Array(await api.arrayBuffer()));
      assert.equal(fragmentText(viaApi), staffText, 'GET /api/v1/docs reads storage when the document is not open');
      assert.equal((await second.api('/api/v1/docs/never-written')).status, 404);
      assert.equal((await second.api('/api/v1/docs/never-written', { key: null })).status, 401);
    });

    test('editors reconnect after a 1001 shutdown and their offline edits are merged', async () => {
      const url = await dialect.url();
      const port = String(await freePort());
      const first = await startServer({ DATABASE_URL: url, PORT: port });
      const a = yClient(first.wsUrl, 'reconnect-1', await first.token('alice', 'student'));
      await synced(a);
      addParagraph(a.doc, 'before the restart');
      const closing = nextClose(a);
      await first.close();
      assert.equal(await closing, 1001);
      addParagraph(a.doc, 'typed while the server was away');

      const second = await startServer({ DATABASE_URL: url, PORT: port });
      await synced(a, 15_000);
      const b = yClient(second.wsUrl, 'reconnect-1', await second.token('bob', 'student'));
      await synced(b);
      await docReaches(b.doc, (d) => fragmentText(d) === fragmentText(a.doc));
      assert.match(fragmentText(b.doc), /before the restart.*typed while the server was away/);
    });

    test('two peers opening a stored document at the same moment share one room loaded from storage', async () => {
      const url = await dialect.url();
      const server = await startServer({ DATABASE_URL: url });
      const token = await server.token('sue', 'student');
      const author = yClient(server.wsUrl, 'together-1', token);
      await synced(author);
      addParagraph(author.doc, 'stored before anyone came back');
      const text = fragmentText(author.doc);
      const witness = yClient(server.wsUrl, 'together-1', token);
      await synced(witness);
      await docReaches(witness.doc, (d) => fragmentText(d) === text);
      author.destroy();
      witness.destroy();
      await waitUntilUnloaded(server, 'together-1');

      const [p, q] = [yClient(server.wsUrl, 'together-1', token), yClient(server.wsUrl, 'together-1', token)];
      onCleanup(() => [p, q].forEach((c) => c.destroy()));
      await Promise.all([synced(p), synced(q)]);
      assert.deepEqual([fragmentText(p.doc), fragmentText(q.doc)], [text, text]);
      addParagraph(p.doc, 'after');
      await docReaches(q.doc, (d) => fragmentText(d) === fragmentText(p.doc), 5_000, 'an edit crossing the shared room');
    });

    test('a peer that comes back while the room unloads gets the document, never an empty one', async () => {
      const url = await dialect.url();
      const server = await startServer({ DATABASE_URL: url });
      const token = await server.token('rita', 'student');
      let expected = '';
      for (let round = 0; round < 15; round++) {
        const editor = yClient(server.wsUrl, 'reload-1', token);
        await synced(editor);
        assert.equal(fragmentText(editor.doc), expected, `round ${round}: the document came back whole`);
        addParagraph(editor.doc, `round ${round}`);
        expected = fragmentText(editor.doc);
        // the server has it once a second peer sees it; then leave and come back at once (a page reload)
        const witness = yClient(server.wsUrl, 'reload-1', token);
        await synced(witness);
        await docReaches(witness.doc, (d) => fragmentText(d) === expected);
        witness.destroy();
        editor.destroy();
      }
    });
  });
}

/** Until the server has no document open (its last peer left and the room was saved and unloaded). */
async function waitUntilUnloaded(server: TestServer, docId: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (/^uhs_yjs_documents_open 0$/m.test(await (await server.api('/metrics', { key: null })).text())) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${docId} was not unloaded within 10 s`);
}

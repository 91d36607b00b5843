import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import * as Y from 'yjs';
import { addParagraph, docReaches, fragmentText, synced, yClient } from '../helpers/collab-clients.js';
import { startServer, type TestServer } from '../helpers/server.js';

describe('collaborative documents with the real y-websocket client', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer();
  });

  test('formatted text (marks) keeps flowing: every later edit is relayed and stored', async () => {
    // a remote change to formatted text makes Yjs run a second, empty transaction; it once hid the change
    const a = yClient(server.wsUrl, 'doc-marks', await server.token('ada', 'student'));
    const b = yClient(server.wsUrl, 'doc-marks', await server.token('bob', 'student'));
    await Promise.all([synced(a), synced(b)]);
    const text = new Y.XmlText();
    const paragraph = new Y.XmlElement('paragraph');
    paragraph.insert(0, [text]);
    a.doc.getXmlFragment('default').insert(0, [paragraph]);
    text.insert(0, 'Hello ');
    text.insert(6, 'b', { bold: true });
    text.insert(7, 'old', { bold: true });
    text.insert(10, ' world', { bold: null });
    await docReaches(b.doc, (d) => fragmentText(d).includes('world'));
    assert.equal(fragmentText(b.doc), fragmentText(a.doc));
    const copy = new Y.Doc();
    Y.applyUpdate(copy, new Uint8Array(await (await server.api('/api/v1/docs/doc-marks')).arrayBuffer()));
    assert.equal(fragmentText(copy), fragmentText(a.doc));
    assert.match(fragmentText(copy), /<bold>bold<\/bold> world/);
  });

  test('two editors sync, converge both ways, and a late joiner gets the whole document', async () => {
    const a = yClient(server.wsUrl, 'doc-basic', await server.token('alice', 'student'));
    const b = yClient(server.wsUrl, 'doc-basic', await server.token('bob', 'instructor'));
    await Promise.all([synced(a), synced(b)]);
    addParagraph(a.doc, 'from alice');
    await docReaches(b.doc, (d) => fragmentText(d).includes('from alice'));
    addParagraph(b.doc, 'from bob');
    await docReaches(a.doc, (d) => fragmentText(d).includes('from bob'));
    assert.equal(fragmentText(a.doc), fragmentText(b.doc));

    const c = yClient(server.wsUrl, 'doc-basic', await server.token('carol', 'parent'));
    await synced(c);
    assert.equal(fragmentText(c.doc), fragmentText(a.doc));

    const response = await server.api('/api/v1/docs/doc-basic');
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), 'application/octet-stream');
    const copy = new Y.Doc();
    Y.applyUpdate(copy, new Uint8Array(await response.arrayBuffer()));
    assert.equal(fragmentText(copy), fragmentText(a.doc));
  });
});

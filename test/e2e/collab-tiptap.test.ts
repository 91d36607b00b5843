/**
 * Collaborative documents with the real TipTap editor in real browsers: two Chromiums, each running TipTap
 * (StarterKit + Collaboration + CollaborationCaret) over y-websocket's WebsocketProvider against /ws/yjs, type
 * into each other's editor through Playwright's keyboard; a reload gets the whole document back; the server's
 * copy (GET /api/v1/docs/{doc_id}), live and then stored, holds the same paragraphs; a third user, whom the
 * YJS_AUTH_URL authorizer refuses, is closed 4403 and the provider does not retry. The browser code
 * (collab-tiptap-client.js) is bundled with esbuild at test time. Runs inside a loopback-only network namespace
 * (test/helpers/browser.ts): needs Debian's `chromium` and `unshare`; skipped with the reason without them, except
 * under CI=true, where it fails.
 */
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { before, test } from 'node:test';
import type { Page } from 'playwright-core';
import * as Y from 'yjs';
import { browserPage, bundleForBrowser, isolatedBrowserSuite, serveLoopback, staticFiles } from '../helpers/browser.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { waitUntil } from '../helpers/video-client.js';

const DOC_ID = 'lesson-e2e-42';
const STRANGER = 'stranger-9';
/** How long the refused provider is watched for a reconnect: y-websocket's first retry would come after ~100 ms. */
const NO_RETRY_WINDOW_MS = 2000;
const EDITOR = '#editor .ProseMirror';

interface EditorResult {
  synced: boolean;
  closed: { code: number; reason: string } | undefined;
  attempts: number;
}
interface EditorWindow {
  startEditor(options: { serverUrl: string; docId: string; token: string; user: { name: string; color: string } }): Promise<EditorResult>;
  editorBlocks(): string[];
  caretNames(): string[];
  connectionState(): { connected: boolean; shouldConnect: boolean; attempts: number; closes: number[]; closedAt: number | undefined; xml: string };
}

isolatedBrowserSuite({ self: import.meta.url, name: 'TipTap collaboration in real browsers', diagnostics: /^tiptap:/ }, () => {
  let srv: TestServer;
  let pageUrl: string;
  let ada: Page;
  let bob: Page;
  let eve: Page;
  const pageErrors: string[] = [];
  const asked: Array<{ user_id: string; role: string; doc_id: string }> = [];

  before(async () => {
    const started = Date.now();
    const bundle = await bundleForBrowser(join(import.meta.dirname, 'collab-tiptap-client.js'));
    const html =
      '<!doctype html><meta charset="utf-8"><title>TipTap e2e</title><link rel="icon" href="data:,">' +
      '<style>.ProseMirror{min-height:4em;border:1px solid #999}.collaboration-carets__caret{border-left:2px solid}</style>' +
      '<div id="editor"></div><script src="/editor.js"></script>';
    const origin = await serveLoopback(
      staticFiles({ '/lesson.html': { type: 'text/html', body: html }, '/editor.js': { type: 'text/javascript', body: bundle } }),
    );
    pageUrl = `${origin}/lesson.html`;
    // the school's authorizer (YJS_AUTH_URL): everyone may write, except the stranger
    const authorizer = await serveLoopback((req, res) => {
      readJson(req).then(
        (question) => {
          const q = question as (typeof asked)[number];
          asked.push(q);
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ access: q.user_id === STRANGER ? 'none' : 'write' }));
        },
        () => res.writeHead(400).end(),
      );
    });
    srv = await startServer({ ALLOWED_ORIGINS: origin, YJS_AUTH_URL: `${authorizer}/authorize`, LOG_LEVEL: 'warn' });
    [ada, bob, eve] = await Promise.all([browserPage(pageUrl), browserPage(pageUrl), browserPage(pageUrl)]);
    for (const [name, page] of [['ada', ada], ['bob', bob], ['eve', eve]] as const) {
      page.on('pageerror', (error) => pageErrors.push(`${name}: ${error.message}`));
      page.on('console', (message) => {
        if (message.type() === 'error' || message.type() === 'warning') pageErrors.push(`${name} console ${message.type()}: ${message.text()}`);
      });
    }
    process.stdout.write(`tiptap: bundle built and three browsers up in ${Date.now() - started} ms\n`);
  });

  async function startEditor(page: Page, user: string, color: string): Promise<EditorResult> {
    const options = { serverUrl: `${srv.wsUrl}/ws/yjs`, docId: DOC_ID, token: await srv.token(user, 'student'), user: { name: user, color } };
    return page.evaluate((o) => (globalThis as unknown as EditorWindow).startEditor(o), options);
  }

  const blocks = (page: Page): Promise<string[]> => page.evaluate(() => (globalThis as unknown as EditorWindow).editorBlocks());
  const connectionState = (page: Page) => page.evaluate(() => (globalThis as unknown as EditorWindow).connectionState());

  /** Waits until `page`'s editor shows exactly `expected` (top-level blocks, `tag:text`). */
  async function shows(page: Page, expected: string[], what: string): Promise<void> {
    try {
      await page.waitForFunction((e) => JSON.stringify((globalThis as unknown as EditorWindow).editorBlocks()) === JSON.stringify(e), expected, { timeout: 10_000 });
    } catch {
      const connection = JSON.stringify(await connectionState(page));
      assert.deepEqual(await blocks(page), expected, `${what}: never shown (connection: ${connection}; page errors: ${JSON.stringify(pageErrors)})`);
    }
  }

  /** The server's copy of the document (GET /api/v1/docs): `tag:text` per block of the `default` fragment, and its XML. */
  async function serverCopy(): Promise<{ blocks: string[]; xml: string }> {
    const response = await srv.api(`/api/v1/docs/${DOC_ID}`);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), 'application/octet-stream');
    const doc = new Y.Doc();
    Y.applyUpdate(doc, new Uint8Array(await response.arrayBuffer()));
    const fragment = doc.getXmlFragment('default');
    const blocks = fragment
      .toArray()
      .map((node) => {
        assert.ok(node instanceof Y.XmlElement, 'a block is an XmlElement');
        const text = node
          .toArray()
          .map((inline) => (inline instanceof Y.XmlText ? inline.toDelta().map((op: { insert: unknown }) => String(op.insert)).join('') : ''))
          .join('');
        return `${node.nodeName === 'paragraph' ? 'p' : node.nodeName}:${text}`;
      });
    return { blocks, xml: fragment.toString() };
  }

  test('a user the authorizer refuses is closed 4403 before seeing anything', async () => {
    const result = await startEditor(eve, STRANGER, '#ff0000');
    assert.deepEqual(result.closed?.code, 4403);
    assert.equal(result.synced, false);
    assert.equal(result.attempts, 1);
    assert.ok(
      asked.some((q) => q.user_id === STRANGER && q.doc_id === DOC_ID && q.role === 'student'),
      'the server asked the authorizer about the stranger',
    );
  });

  test('keystrokes in one editor appear in the other, both ways, with carets', async () => {
    const [adaStart, bobStart] = await Promise.all([startEditor(ada, 'ada', '#f783ac'), startEditor(bob, 'bob', '#4dabf7')]);
    assert.equal(adaStart.synced, true);
    assert.equal(bobStart.synced, true);
    await shows(bob, ['p:'], 'a new document');

    const started = Date.now();
    await ada.click(EDITOR);
    await ada.keyboard.type('Hello ');
    await ada.keyboard.press('Control+b');
    await ada.keyboard.type('bold');
    await ada.keyboard.press('Control+b');
    await ada.keyboard.type(' world');
    await ada.keyboard.press('Enter');
    await ada.keyboard.type('Second line from Ada');
    await shows(bob, ['p:Hello bold world', 'p:Second line from Ada'], "Ada's typing in Bob's editor");
    process.stdout.write(`tiptap: Ada's two paragraphs typed and shown in Bob's editor within ${Date.now() - started} ms\n`);
    assert.equal(await bob.textContent(`${EDITOR} p strong`), 'bold', 'the bold mark arrives as <strong>');

    await bob.click(EDITOR);
    await bob.keyboard.press('Control+End');
    await bob.keyboard.press('Enter');
    await bob.keyboard.type('Reply from Bob');
    await shows(ada, ['p:Hello bold world', 'p:Second line from Ada', 'p:Reply from Bob'], "Bob's typing in Ada's editor");

    // awareness through the server: each editor draws the other's caret with the user's name
    const caretOf = (page: Page, name: string) =>
      page.waitForFunction((n) => (globalThis as unknown as EditorWindow).caretNames().includes(n), name, { timeout: 10_000 });
    await Promise.all([caretOf(bob, 'ada'), caretOf(ada, 'bob')]);
  });

  test('typing in both editors at once converges', async () => {
    await ada.keyboard.press('Control+Home');
    await bob.keyboard.press('Control+End');
    await Promise.all([ada.keyboard.type('Ada was here: '), bob.keyboard.type(', and Bob too')]);
    const expected = ['p:Ada was here: Hello bold world', 'p:Second line from Ada', 'p:Reply from Bob, and Bob too'];
    await Promise.all([shows(ada, expected, 'Ada after concurrent typing'), shows(bob, expected, 'Bob after concurrent typing')]);
  });

  test('a reloaded editor gets the whole document back', async () => {
    const expected = await blocks(ada);
    await bob.reload();
    assert.deepEqual(await blocks(bob), [], 'the reloaded page starts without an editor');
    const result = await startEditor(bob, 'bob', '#4dabf7');
    assert.equal(result.synced, true);
    await shows(bob, expected, 'Bob after reload');
    assert.equal(await bob.textContent(`${EDITOR} p strong`), 'bold');
  });

  test("the server's copy holds the same paragraphs, live and once stored", async () => {
    const expected = await blocks(ada);
    const live = await serverCopy();
    assert.deepEqual(live.blocks, expected, 'the live document');
    assert.match(live.xml, /<bold>bold<\/bold>/, 'the bold mark, as TipTap stores it');

    // both editors leave: the document is compacted into storage and unloaded, so the next GET reads storage
    await Promise.all([ada.context().close(), bob.context().close()]);
    await waitUntil(async () => /^uhs_yjs_documents_open 0$/m.test(await (await srv.api('/metrics', { key: null })).text()), 'the document to unload', 10_000);
    assert.deepEqual((await serverCopy()).xml, live.xml, 'the stored document');
  });

  test('the refused editor never retried and shows nothing', async () => {
    const { closedAt } = await connectionState(eve);
    assert.ok(closedAt !== undefined);
    // a negative can only be watched for a while: the rest of the window, if the tests above took less
    const left = closedAt + NO_RETRY_WINDOW_MS - (await eve.evaluate(() => Date.now()));
    if (left > 0) await new Promise((resolve) => setTimeout(resolve, left));
    const state = await connectionState(eve);
    assert.equal(state.attempts, 1, 'one connection attempt only');
    assert.deepEqual(state.closes, [4403]);
    assert.equal(state.shouldConnect, false);
    assert.equal(state.xml, '', 'an empty Yjs document');
    assert.deepEqual(await blocks(eve), ['p:'], 'an empty editor');
    assert.deepEqual(pageErrors, [], 'no page errors, console errors or warnings');
  });
});

function readJson(req: IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      try {
        resolve(JSON.parse(body));
      } catch (error) {
        reject(error instanceof Error ? error : new Error(String(error)));
      }
    });
    req.on('error', reject);
  });
}

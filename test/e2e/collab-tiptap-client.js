// The browser side of the TipTap e2e test, bundled by esbuild at test time into one IIFE: a real TipTap editor
// (StarterKit, Collaboration, CollaborationCaret) bound to y-websocket's WebsocketProvider, set up the way an
// integrator would (docs/protocol.md, collaborative documents). Only the WebSocket is wrapped, to count the
// connection attempts the provider makes.
import { Editor } from '@tiptap/core';
import StarterKit from '@tiptap/starter-kit';
import Collaboration from '@tiptap/extension-collaboration';
import CollaborationCaret from '@tiptap/extension-collaboration-caret';
import { WebsocketProvider } from 'y-websocket';
import * as Y from 'yjs';

/**
 * Opens the editor on `#editor`; resolves once the provider is synced, or once the server closed the socket for
 * good (`closed`: a 44xx code), whichever comes first.
 * @param {{ serverUrl: string, docId: string, token: string, user: { name: string, color: string } }} options
 */
window.startEditor = ({ serverUrl, docId, token, user }) => {
  const attempts = [];
  class CountingWebSocket extends WebSocket {
    constructor(url, protocols) {
      super(url, protocols);
      attempts.push(Date.now());
    }
  }
  const doc = new Y.Doc();
  const provider = new WebsocketProvider(serverUrl, docId, doc, {
    params: { token },
    WebSocketPolyfill: CountingWebSocket,
  });
  const state = { attempts, closes: [], closed: undefined, closedAt: undefined };
  provider.on('connection-close', (event) => {
    if (event) state.closes.push(event.code);
  });
  const editor = new Editor({
    element: document.querySelector('#editor'),
    extensions: [
      // undo/redo comes from Yjs (Collaboration); StarterKit's own would fight it
      StarterKit.configure({ undoRedo: false }),
      Collaboration.configure({ document: doc }),
      CollaborationCaret.configure({ provider, user }),
    ],
  });
  window.collab = { doc, provider, editor, state };

  return new Promise((resolve) => {
    const report = () => ({ synced: provider.synced, closed: state.closed, attempts: attempts.length });
    provider.on('sync', (synced) => {
      if (synced) resolve(report());
    });
    provider.on('closed', ({ code, reason }) => {
      state.closed = { code, reason };
      state.closedAt = Date.now();
      resolve(report());
    });
  });
};

/** What the editor shows: each top-level block's tag and text, from the DOM (other users' carets left out). */
window.editorBlocks = () =>
  [...document.querySelectorAll('#editor .ProseMirror > *')].map((el) => {
    const copy = el.cloneNode(true);
    for (const caret of copy.querySelectorAll('.collaboration-carets__caret')) caret.remove();
    return `${el.tagName.toLowerCase()}:${copy.textContent}`;
  });

/** The names on the other users' carets drawn in the editor. */
window.caretNames = () => [...document.querySelectorAll('#editor .collaboration-carets__label')].map((el) => el.textContent);

/** The provider's connection as the test checks it, and the Yjs document's `default` fragment as XML. */
window.connectionState = () => {
  const { provider, state, doc } = window.collab;
  return {
    connected: provider.wsconnected,
    shouldConnect: provider.shouldConnect,
    attempts: state.attempts.length,
    closes: state.closes,
    closedAt: state.closedAt,
    xml: doc.getXmlFragment('default').toString(),
  };
};

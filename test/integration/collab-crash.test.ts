import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import * as Y from 'yjs';
import { mintAccessToken } from '../../src/adapters/auth/token-minter.js';
import { createDatabase } from '../../src/adapters/db/database.js';
import { addParagraph, docReaches, fragmentText, synced, withTimeout, yClient } from '../helpers/collab-clients.js';
import { onCleanup } from '../helpers/cleanup.js';
import { createTestDatabase } from '../helpers/postgres.js';
import { TEST_API_KEY, TEST_SECRET, tempDir } from '../helpers/server.js';

interface ChildServer {
  readonly child: ChildProcess;
  readonly wsUrl: string;
}

/** The real CLI in a child process, so that it can be killed with SIGKILL. */
async function spawnServer(databaseUrl: string, dataDir: string): Promise<ChildServer> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/bin/uhs-realtime.ts', 'serve'], {
    env: {
      ...process.env,
      NODE_ENV: 'test',
      PORT: '0',
      HOST: '127.0.0.1',
      JWT_SECRET: TEST_SECRET,
      PUBLISH_API_KEY: TEST_API_KEY,
      DATA_DIR: dataDir,
      DATABASE_URL: databaseUrl,
      LOG_LEVEL: 'info',
      // no compaction while the test runs: what survives the kill is the update log
      SAVE_INTERVAL_SECONDS: '3600',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  onCleanup(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const port = await withTimeout(
    new Promise<number>((resolve, reject) => {
      let buffered = '';
      child.stdout!.on('data', (chunk: Buffer) => {
        buffered += chunk.toString('utf8');
        for (const line of buffered.split('\n')) {
          const match = /"msg":"listening"/.test(line) ? /"port":(\d+)/.exec(line) : null;
          if (match) resolve(Number(match[1]));
        }
      });
      child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
    }),
    30_000,
    'the server to listen',
  );
  return { child, wsUrl: `ws://127.0.0.1:${port}` };
}

const DIALECTS = [
  { name: 'sqlite', url: async () => `sqlite:${join(tempDir(), 'crash.db')}` },
  { name: 'postgres', url: createTestDatabase },
] as const;

for (const dialect of DIALECTS) {
  describe(`kill -9 on ${dialect.name}`, () => {
    test('an update a peer received survives SIGKILL of the server', { timeout: 90_000 }, async () => {
      const databaseUrl = await dialect.url();
      const dataDir = tempDir();
      const token = (sub: string) => mintAccessToken({ secret: TEST_SECRET, sub, role: 'student', ttlSeconds: 600 });
      const first = await spawnServer(databaseUrl, dataDir);
      const writer = yClient(first.wsUrl, 'crash-doc', await token('writer'));
      const reader = yClient(first.wsUrl, 'crash-doc', await token('reader'));
      await Promise.all([synced(writer), synced(reader)]);

      // a burst of edits; the server is killed the moment the reader has received the last one
      const killed = new Promise<string>((resolve) => {
        reader.doc.on('update', () => {
          const text = fragmentText(reader.doc);
          if (text.includes('edit 49') && first.child.signalCode === null) {
            first.child.kill('SIGKILL');
            resolve(text);
          }
        });
      });
      for (let i = 0; i < 50; i++) addParagraph(writer.doc, `edit ${i}`);
      const seenByReader = await withTimeout(killed, 20_000, 'the reader to receive the last edit');
      await once(first.child, 'exit');
      assert.equal(first.child.signalCode, 'SIGKILL');
      writer.destroy();
      reader.destroy();

      const database = createDatabase(databaseUrl);
      onCleanup(() => database.close());
      const snapshots = await database.db.selectFrom('yjs_documents').select('doc_id').execute();
      assert.equal(snapshots.length, 0, 'nothing was compacted: the update log alone carried the edits');

      const second = await spawnServer(databaseUrl, dataDir);
      const late = yClient(second.wsUrl, 'crash-doc', await token('late'));
      await synced(late);
      await docReaches(late.doc, (d) => fragmentText(d) === seenByReader, 5000, 'the document after restart');
      assert.equal(fragmentText(late.doc), seenByReader);
      const copy = new Y.Doc();
      Y.applyUpdate(copy, Y.encodeStateAsUpdate(late.doc));
      assert.match(fragmentText(copy), /edit 0.*edit 49/);
      late.destroy();
      second.child.kill('SIGTERM');
      const [code] = await once(second.child, 'exit');
      assert.equal(code, 0, 'a graceful stop exits 0');
      const compacted = await database.db.selectFrom('yjs_documents').select('doc_id').execute();
      assert.deepEqual(compacted.map((r) => r.doc_id), ['crash-doc'], 'the graceful stop compacted the log');
    });
  });
}

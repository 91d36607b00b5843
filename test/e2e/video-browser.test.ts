/**
 * Two real Chromium browsers connect over WebRTC through our signaling, as two users of one session, and a third
 * user is refused. Runs inside a loopback-only network namespace (test/helpers/browser.ts): needs Debian's
 * `chromium` and `unshare`; skipped with the reason without them, except under CI=true, where it fails.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import type { Page } from 'playwright-core';
import { browserPage as openBrowserPage, isolatedBrowserSuite, serveLoopback, staticFiles } from '../helpers/browser.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { registerSession } from '../helpers/video-client.js';

interface ClientResult {
  peerId: string;
  remotePeerId: string;
  remoteUserId: string;
  received: string;
  localAddress: string | undefined;
}

isolatedBrowserSuite({ self: import.meta.url, name: 'video in real browsers', diagnostics: /^data channel/ }, () => {
  let srv: TestServer;
  let pageUrl: string;
  const clientScript = readFileSync(join(import.meta.dirname, 'video-browser-client.js'), 'utf8');

  before(async () => {
    // the school's web page, on its own origin
    const html = `<!doctype html><title>video e2e</title><script>${clientScript}</script>`;
    const origin = await serveLoopback(staticFiles({ '/class.html': { type: 'text/html', body: html } }));
    pageUrl = `${origin}/class.html`;
    srv = await startServer({
      ALLOWED_ORIGINS: origin,
      // real-looking ICE configuration: the browser must accept it; nothing listens there, host candidates win
      STUN_URLS: 'stun:127.0.0.1:3478',
      TURN_URLS: 'turn:127.0.0.1:3478?transport=udp',
      TURN_SECRET: 'e2e-turn-secret',
      LOG_LEVEL: 'warn',
    });
    await registerSession(srv, 'e2e-class', { host_id: 'teacher-1', participant_ids: ['kid-1'] });
  });

  /** A separate Chromium with the school's page open, carrying the client. */
  const browserPage = (): Promise<Page> =>
    openBrowserPage(pageUrl, {
      args: ['--allow-loopback-in-peer-connection'],
      // without them Chromium hides host candidates behind mDNS names and no loopback connection forms
      permissions: ['camera', 'microphone'],
    });

  test('two users of one session open a data channel and greet each other; a stranger is refused 4403', async () => {
    const [teacherPage, kidPage] = await Promise.all([browserPage(), browserPage()]);
    const options = async (user: string, role: string, greeting: string) => ({
      wsUrl: `${srv.wsUrl}/ws/video/e2e-class?token=${await srv.token(user, role as 'student')}`,
      iceServersUrl: `${srv.httpUrl}/api/v1/ice-servers`,
      token: await srv.token(user, role as 'student'),
      greeting,
      timeoutMs: 30_000,
    });
    const teacherOptions = await options('teacher-1', 'instructor', 'hello from the teacher');
    const kidOptions = await options('kid-1', 'student', 'hello from the kid');

    // the teacher is alone at first; the kid, joining second, calls the teacher
    const teacherRun = teacherPage.evaluate((o) => (globalThis as unknown as ClientWindow).runVideoClient(o), teacherOptions);
    await teacherPage.waitForFunction('window.videoPeerId !== undefined', undefined, { timeout: 15_000 });
    const started = Date.now();
    const kidRun = kidPage.evaluate((o) => (globalThis as unknown as ClientWindow).runVideoClient(o), kidOptions);
    const [teacher, kid] = await Promise.all([teacherRun, kidRun]);

    assert.equal(teacher.received, 'hello from the kid');
    assert.equal(kid.received, 'hello from the teacher');
    assert.equal(teacher.remotePeerId, kid.peerId);
    assert.equal(kid.remotePeerId, teacher.peerId);
    assert.equal(teacher.remoteUserId, 'kid-1', 'from_user_id set by the server');
    assert.equal(kid.remoteUserId, 'teacher-1');
    assert.equal(kid.localAddress, '127.0.0.1');
    process.stdout.write(`data channel open both ways ${Date.now() - started} ms after the second join\n`);

    const stranger = await kidPage.evaluate(
      (o) => (globalThis as unknown as ClientWindow).tryJoin(o),
      { wsUrl: `${srv.wsUrl}/ws/video/e2e-class?token=${await srv.token('kid-2', 'student')}` },
    );
    assert.equal(stranger.code, 4403);
    assert.deepEqual(stranger.messages, []);
  });
});

interface ClientWindow {
  runVideoClient(options: { wsUrl: string; iceServersUrl: string; token: string; greeting: string; timeoutMs: number }): Promise<ClientResult>;
  tryJoin(options: { wsUrl: string }): Promise<{ code: number; reason: string; messages: string[] }>;
}

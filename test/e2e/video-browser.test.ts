/**
 * Two real Chromium browsers connect over WebRTC through our signaling, as two users of one session, and a third
 * user is refused. Chromium must not reach outside the machine, so the test runs inside a loopback-only network
 * namespace: run normally, this file re-executes itself under `unshare -n` (with UHS_E2E_ISOLATED=1) and reports
 * that run's result. Needs Debian's `chromium` and a network namespace (root, or unprivileged user namespaces);
 * without them it is skipped with the reason — except under CI=true, where it fails. Setting UHS_E2E_ISOLATED=1
 * yourself runs the browsers directly (only do so where the network is already isolated: a test checks it).
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import type { BrowserContext, Page } from 'playwright-core';
import { startServer, type TestServer } from '../helpers/server.js';
import { registerSession } from '../helpers/video-client.js';

const ISOLATED_FLAG = 'UHS_E2E_ISOLATED';
const CHROMIUM = '/usr/bin/chromium';
const INNER_TIMEOUT_MS = 180_000;
const SELF = fileURLToPath(import.meta.url);
const inCi = process.env.CI === 'true' || process.env.CI === '1';

if (process.env[ISOLATED_FLAG] === '1') {
  browserSuite();
} else {
  test('video in real browsers, inside a loopback-only network namespace', async (t) => {
    const unshareArgs = process.getuid?.() === 0 ? ['-n'] : ['-r', '-n'];
    const missing = !existsSync(CHROMIUM)
      ? `${CHROMIUM} is not installed (apt-get install chromium; .ci/run does it)`
      : spawnSync('unshare', [...unshareArgs, 'true']).status !== 0
        ? 'cannot create a network namespace with unshare (needs root or unprivileged user namespaces)'
        : undefined;
    if (missing) {
      if (inCi) assert.fail(`browser test cannot run in CI: ${missing}`);
      t.skip(`browser test skipped: ${missing}`);
      return;
    }
    const { code, output } = await runIsolated(unshareArgs);
    assert.equal(code, 0, `the isolated browser run failed:\n${output}`);
    for (const line of output.split('\n').filter((l) => /^\s*[✔✖﹣]|^ℹ (tests|pass|fail)|^data channel/.test(l))) t.diagnostic(line.trim());
  });
}

/** This file again, in a new network namespace with only `lo` up; resolves with its exit code and output. */
function runIsolated(unshareArgs: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      'unshare',
      [...unshareArgs, '--', 'sh', '-c', 'ip link set lo up && exec "$0" "$@"', process.execPath, '--import', 'tsx', '--test-reporter=spec', SELF],
      { env: isolatedEnv(), detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    const timer = setTimeout(() => {
      output += `\n(killed after ${INNER_TIMEOUT_MS} ms)`;
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
    }, INNER_TIMEOUT_MS);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

/** Our environment for the inner run, minus the test runner's own marker (it would switch the reporter off). */
function isolatedEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, [ISOLATED_FLAG]: '1' };
  delete env.NODE_TEST_CONTEXT;
  return env;
}

interface ClientResult {
  peerId: string;
  remotePeerId: string;
  remoteUserId: string;
  received: string;
  localAddress: string | undefined;
}

function browserSuite(): void {
  describe('video in real browsers', () => {
    let srv: TestServer;
    let site: Server;
    let pageUrl: string;
    const contexts: BrowserContext[] = [];
    const dirs: string[] = [];
    const clientScript = readFileSync(join(import.meta.dirname, 'video-browser-client.js'), 'utf8');

    before(async () => {
      // the school's web page, on its own origin: a plain server on loopback (Chromium's local-network-access
      // checks refuse a page it cannot place on an address to open sockets to 127.0.0.1)
      const html = `<!doctype html><title>video e2e</title><script>${clientScript}</script>`;
      site = createHttpServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(html));
      site.listen(0, '127.0.0.1');
      await once(site, 'listening');
      const origin = `http://127.0.0.1:${(site.address() as AddressInfo).port}`;
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

    after(async () => {
      for (const context of contexts) await context.close().catch(() => undefined);
      for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
      site.close();
    });

    /** A separate Chromium (its own fresh profile) with the school's page open, carrying the client. */
    async function browserPage(): Promise<Page> {
      const { chromium } = await import('playwright-core');
      const dir = mkdtempSync(join(tmpdir(), 'uhs-chromium-'));
      dirs.push(dir);
      const context = await chromium.launchPersistentContext(dir, {
        executablePath: CHROMIUM,
        headless: true,
        args: [
          '--no-sandbox',
          '--disable-gpu',
          '--disable-quic',
          '--no-first-run',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
          '--allow-loopback-in-peer-connection',
          '--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1',
        ],
        // without them Chromium hides host candidates behind mDNS names and no loopback connection forms
        permissions: ['camera', 'microphone'],
      });
      contexts.push(context);
      const page = context.pages()[0] ?? (await context.newPage());
      await page.goto(pageUrl);
      return page;
    }

    test('the namespace has nothing but loopback', () => {
      assert.deepEqual(Object.keys(networkInterfaces()), ['lo']);
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
}

interface ClientWindow {
  runVideoClient(options: { wsUrl: string; iceServersUrl: string; token: string; greeting: string; timeoutMs: number }): Promise<ClientResult>;
  tryJoin(options: { wsUrl: string }): Promise<{ code: number; reason: string; messages: string[] }>;
}

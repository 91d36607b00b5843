/**
 * Real-browser tests: Debian's Chromium driven by playwright-core, inside a loopback-only network namespace.
 *
 * Chromium must not reach outside the machine, so a browser test file calls `isolatedBrowserSuite`: run normally,
 * the file re-executes itself under `unshare -n` (with UHS_E2E_ISOLATED=1, only `lo` up) and reports that run's
 * result as one test; inside, the suite runs. Needs Debian's `chromium` and a network namespace (root, or
 * unprivileged user namespaces); without them the test is skipped with the reason — except under CI=true, where it
 * fails. Setting UHS_E2E_ISOLATED=1 yourself runs the browsers directly (only where the network is already
 * isolated: the suite's first test checks it).
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { RequestListener } from 'node:http';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { onCleanup } from './cleanup.js';
import { serveLoopback } from './loopback-http.js';

export { serveLoopback };

const ISOLATED_FLAG = 'UHS_E2E_ISOLATED';
export const CHROMIUM = '/usr/bin/chromium';
const inCi = process.env.CI === 'true' || process.env.CI === '1';

/** Lines of the inner run's spec output worth repeating as diagnostics of the outer test. */
const RESULT_LINE = /^\s*[✔✖﹣]|^ℹ (tests|pass|fail)/;

export interface IsolatedBrowserSuiteOptions {
  /** The test file's `import.meta.url`: the file that re-executes itself. */
  readonly self: string;
  /** Name of the suite (and, prefixed, of the outer test). */
  readonly name: string;
  /** Further lines of the inner run's output to show as diagnostics (e.g. timings the suite prints). */
  readonly diagnostics?: RegExp;
  /** The inner run is killed after this long (default 180 s). */
  readonly timeoutMs?: number;
}

/**
 * Registers `suite` to run inside a loopback-only network namespace. `suite` registers its tests (and hooks) as
 * usual; they run in a `describe` whose first test checks that only `lo` exists.
 */
export function isolatedBrowserSuite(options: IsolatedBrowserSuiteOptions, suite: () => void): void {
  if (process.env[ISOLATED_FLAG] === '1') {
    describe(options.name, () => {
      test('the namespace has nothing but loopback', () => {
        assert.deepEqual(Object.keys(networkInterfaces()), ['lo']);
      });
      suite();
    });
    return;
  }
  test(`${options.name}, inside a loopback-only network namespace`, async (t) => {
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
    const { code, output } = await runIsolated(fileURLToPath(options.self), unshareArgs, options.timeoutMs ?? 180_000);
    assert.equal(code, 0, `the isolated browser run failed:\n${output}`);
    for (const line of output.split('\n')) {
      if (RESULT_LINE.test(line) || options.diagnostics?.test(line)) t.diagnostic(line.trim());
    }
  });
}

/** `file` again, in a new network namespace with only `lo` up; resolves with its exit code and output. */
function runIsolated(file: string, unshareArgs: string[], timeoutMs: number): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      'unshare',
      [...unshareArgs, '--', 'sh', '-c', 'ip link set lo up && exec "$0" "$@"', process.execPath, '--import', 'tsx', '--test-reporter=spec', file],
      { env: isolatedEnv(), detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    const timer = setTimeout(() => {
      output += `\n(killed after ${timeoutMs} ms)`;
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
    }, timeoutMs);
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

export interface BrowserPageOptions {
  /** Command-line flags beyond the common ones. */
  readonly args?: readonly string[];
  /** Permissions granted to every origin (e.g. camera, microphone). */
  readonly permissions?: readonly string[];
}

/**
 * A separate Chromium (its own fresh profile, so no BroadcastChannel, storage or cache is shared with another
 * page) with `url` open; closed and its profile removed after the test file.
 */
export async function browserPage(url: string, options: BrowserPageOptions = {}): Promise<Page> {
  const { chromium } = await import('playwright-core');
  const dir = mkdtempSync(join(tmpdir(), 'uhs-chromium-'));
  onCleanup(() => rmSync(dir, { recursive: true, force: true }));
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
      '--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1',
      ...(options.args ?? []),
    ],
    permissions: [...(options.permissions ?? [])],
  });
  onCleanup(() => context.close().catch(() => undefined));
  const page = context.pages()[0] ?? (await context.newPage());
  await page.goto(url);
  return page;
}

/** A request handler answering GET of the given paths with fixed bodies, 404 otherwise. */
export function staticFiles(files: Record<string, { type: string; body: string }>): RequestListener {
  return (req, res) => {
    const file = req.method === 'GET' ? files[new URL(req.url ?? '/', 'http://x').pathname] : undefined;
    if (!file) res.writeHead(404).end();
    else res.writeHead(200, { 'content-type': file.type, 'cache-control': 'no-store' }).end(file.body);
  };
}

/** `entry` and everything it imports, bundled by esbuild into one browser IIFE (built in a temp dir); its text. */
export async function bundleForBrowser(entry: string): Promise<string> {
  const { build } = await import('esbuild');
  const dir = mkdtempSync(join(tmpdir(), 'uhs-bundle-'));
  onCleanup(() => rmSync(dir, { recursive: true, force: true }));
  const outfile = join(dir, 'bundle.js');
  await build({ entryPoints: [entry], outfile, bundle: true, format: 'iife', platform: 'browser', target: 'es2022', logLevel: 'warning' });
  return readFileSync(outfile, 'utf8');
}

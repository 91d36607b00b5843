import { after } from 'node:test';

const cleanups: Array<() => unknown> = [];

// Registered when this module is first imported, i.e. while the test file loads: it runs after all of the
// file's tests, whatever hook or test created the resource.
after(async () => {
  while (cleanups.length > 0) {
    const cleanup = cleanups.pop()!;
    try {
      await cleanup();
    } catch (error) {
      process.stderr.write(`cleanup failed: ${String(error)}\n`);
    }
  }
});

/** Run `fn` after the test file, latest registered first. */
export function onCleanup(fn: () => unknown): void {
  cleanups.push(fn);
}

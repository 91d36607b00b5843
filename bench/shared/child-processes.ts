/**
 * Every child process a benchmark starts, and every temporary thing it makes, so that none
 * outlives it: `track` each child, `stopChild` to end one politely, `onCleanup` for the rest, and
 * `killAllChildren` (SIGKILL, synchronous; also runs the pending cleanups) on any exit path.
 */
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';

const children = new Set<ChildProcess>();
const cleanups = new Set<() => void>();

export function track<T extends ChildProcess>(child: T): T {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

/** SIGTERM, then SIGKILL if the child is still there after `graceMs`. */
export async function stopChild(child: ChildProcess, graceMs = 5_000): Promise<void> {
  if (hasExited(child)) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  try {
    await exited;
  } finally {
    clearTimeout(timer);
  }
}

/** Registers a synchronous cleanup for `killAllChildren`; the returned function runs it now, once. */
export function onCleanup(cleanup: () => void): () => void {
  cleanups.add(cleanup);
  return () => {
    if (cleanups.delete(cleanup)) cleanup();
  };
}

/** Kills every tracked child and runs the pending cleanups (for `process.on('exit')`). */
export function killAllChildren(): void {
  for (const child of children) {
    if (!hasExited(child)) child.kill('SIGKILL');
  }
  children.clear();
  for (const cleanup of cleanups) {
    try {
      cleanup();
    } catch {
      // best effort on the way out
    }
  }
  cleanups.clear();
}

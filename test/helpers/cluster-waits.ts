import type { Instance } from './cluster.js';
import { withTimeout, type YClient } from './collab-clients.js';

/** Polls `condition` (for things no event reports, such as another process's readiness) until it holds. */
export async function until(condition: () => Promise<boolean> | boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Whether the instance answers /readyz with 200 (database and bus healthy). */
export async function isReady(instance: Instance): Promise<boolean> {
  try {
    return (await fetch(`${instance.httpUrl}/readyz`)).status === 200;
  } catch {
    return false;
  }
}

/**
 * Resolves once `client` sees the awareness state of `clientId` (present: true) or no longer sees it (false),
 * optionally with a state matching `accept`; checked on every awareness change.
 */
export function awarenessReaches(
  client: YClient,
  clientId: number,
  present: boolean,
  timeoutMs = 10_000,
  accept: (state: Record<string, unknown>) => boolean = () => true,
): Promise<void> {
  const { awareness } = client.provider;
  const holds = (): boolean => {
    const state = awareness.getStates().get(clientId);
    return present ? state !== undefined && accept(state) : state === undefined;
  };
  if (holds()) return Promise.resolve();
  let handler: (() => void) | undefined;
  return withTimeout(
    new Promise<void>((resolve) => {
      handler = () => {
        if (holds()) resolve();
      };
      awareness.on('change', handler);
    }),
    timeoutMs,
    `awareness of ${clientId} to be ${present ? 'present' : 'gone'}`,
  ).finally(() => handler && awareness.off('change', handler));
}

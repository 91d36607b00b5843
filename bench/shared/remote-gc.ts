/**
 * Full garbage collection in another Node process, through its inspector.
 *
 * The process must run with `--inspect=127.0.0.1:<port>`. This needs no cooperation from the
 * code under test (no `--expose-gc` endpoint), so the server being measured stays unmodified.
 * Only `HeapProfiler.collectGarbage` is sent; the debugger is never enabled.
 */
import WebSocket from 'ws';

interface InspectorTarget {
  readonly webSocketDebuggerUrl?: string;
}

function isTargetList(value: unknown): value is InspectorTarget[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'object' && item !== null);
}

async function debuggerUrl(inspectPort: number): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${inspectPort}/json/list`);
  const targets: unknown = await response.json();
  const url = isTargetList(targets) ? targets[0]?.webSocketDebuggerUrl : undefined;
  if (!url) throw new Error(`no inspector target on port ${inspectPort}`);
  return url;
}

/** Runs `rounds` full GCs in the process listening for the inspector on `inspectPort`. */
export async function collectGarbage(inspectPort: number, rounds = 2, timeoutMs = 10_000): Promise<void> {
  const socket = new WebSocket(await debuggerUrl(inspectPort), { perMessageDeflate: false });
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('inspector GC timed out')), timeoutMs);
      let nextId = 1;
      const send = (): void => {
        socket.send(JSON.stringify({ id: nextId, method: 'HeapProfiler.collectGarbage' }));
      };
      socket.on('open', send);
      socket.on('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      socket.on('message', (raw) => {
        const reply: unknown = JSON.parse(raw.toString());
        if (typeof reply !== 'object' || reply === null || !('id' in reply) || reply.id !== nextId) return;
        if (nextId >= rounds) {
          clearTimeout(timer);
          resolve();
          return;
        }
        nextId += 1;
        send();
      });
    });
  } finally {
    socket.terminate();
  }
}

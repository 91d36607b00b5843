/**
 * Full garbage collection in another Node process, through its inspector.
 *
 * The process must run with `--inspect=127.0.0.1:<port>`. This needs no cooperation from the
 * code under test (no `--expose-gc` endpoint), so the server being measured stays unmodified.
 * Only `HeapProfiler.collectGarbage` and `Runtime.getHeapUsage` are sent; the debugger is never enabled.
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

/** The result of one DevTools-protocol command. */
type CommandResult = Record<string, unknown>;

/** Sends `methods` one after the other to the inspector on `inspectPort`; resolves with their results. */
async function inspectorCommands(inspectPort: number, methods: readonly string[], timeoutMs: number): Promise<CommandResult[]> {
  const socket = new WebSocket(await debuggerUrl(inspectPort), { perMessageDeflate: false });
  const results: CommandResult[] = [];
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`inspector ${methods.join(', ')} timed out`)), timeoutMs);
      const send = (): void => {
        socket.send(JSON.stringify({ id: results.length + 1, method: methods[results.length] }));
      };
      socket.on('open', send);
      socket.on('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      socket.on('message', (raw) => {
        const reply: unknown = JSON.parse(raw.toString());
        if (typeof reply !== 'object' || reply === null || !('id' in reply) || reply.id !== results.length + 1) return;
        const result = 'result' in reply && typeof reply.result === 'object' && reply.result !== null ? (reply.result as CommandResult) : {};
        results.push(result);
        if (results.length >= methods.length) {
          clearTimeout(timer);
          resolve();
          return;
        }
        send();
      });
    });
  } finally {
    socket.terminate();
  }
  return results;
}

/** Runs `rounds` full GCs in the process listening for the inspector on `inspectPort`. */
export async function collectGarbage(inspectPort: number, rounds = 2, timeoutMs = 10_000): Promise<void> {
  await inspectorCommands(inspectPort, Array.from({ length: rounds }, () => 'HeapProfiler.collectGarbage'), timeoutMs);
}

export interface HeapUsage {
  /** V8 heap bytes in use (live objects and garbage not yet collected). */
  readonly usedBytes: number;
  readonly totalBytes: number;
}

/** The V8 heap of the process listening for the inspector on `inspectPort` (`Runtime.getHeapUsage`). */
export async function readHeapUsage(inspectPort: number, timeoutMs = 10_000): Promise<HeapUsage> {
  const [result] = await inspectorCommands(inspectPort, ['Runtime.getHeapUsage'], timeoutMs);
  const used = Number(result?.usedSize);
  const total = Number(result?.totalSize);
  if (!Number.isFinite(used) || !Number.isFinite(total)) throw new Error('no heap usage from the inspector');
  return { usedBytes: used, totalBytes: total };
}

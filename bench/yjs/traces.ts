/**
 * Typing to replay: the real editing traces of `josephg/editing-traces` (CC BY 4.0), read from a folder given on
 * the command line and never copied into the repository, or synthetic typing when there is none.
 *
 * One keystroke is one transaction of the trace: a list of patches `[pos, deleteCount, insertedText]` applied in
 * order. Trace positions count Unicode code points; Yjs counts UTF-16 units, so only traces whose text stays in the
 * Basic Multilingual Plane are used as they are (where both counts agree).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';

export type Patch = readonly [position: number, deleteCount: number, inserted: string];
export type Keystroke = readonly Patch[];

export interface Trace {
  readonly name: string;
  readonly keystrokes: readonly Keystroke[];
}

interface SequentialTrace {
  readonly startContent: string;
  readonly endContent: string;
  readonly txns: ReadonlyArray<{ readonly patches: ReadonlyArray<readonly [number, number, string]> }>;
}

const ASTRAL = /[\uD800-\uDFFF]/;

/** The usable sequential traces of `dir` (sorted by name), or one synthetic trace when there are none. */
export function loadTraces(dir: string | undefined, log: (line: string) => void = () => undefined): Trace[] {
  const traces: Trace[] = [];
  if (dir && existsSync(dir)) {
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.json.gz')).sort()) {
      const raw: unknown = JSON.parse(gunzipSync(readFileSync(path.join(dir, file))).toString('utf8'));
      const trace = raw as Partial<SequentialTrace> & { kind?: string };
      if (trace.kind === 'concurrent' || !Array.isArray(trace.txns)) {
        log(`traces: ${file} is not a sequential trace; skipped`);
        continue;
      }
      if (trace.startContent !== '' || ASTRAL.test(trace.endContent ?? '') || trace.txns.some((t) => t.patches.some((p: readonly [number, number, string]) => ASTRAL.test(p[2])))) {
        log(`traces: ${file} has a start text or characters outside the BMP; skipped`);
        continue;
      }
      traces.push({ name: file.replace(/\.json\.gz$/, ''), keystrokes: trace.txns.map((t) => t.patches) });
    }
  } else if (dir) {
    log(`traces: ${dir} not found; using synthetic typing`);
  }
  if (traces.length === 0) traces.push(syntheticTrace(200_000));
  return traces;
}

/** Someone typing words, with a backspace now and then and the cursor jumping occasionally. */
export function syntheticTrace(keystrokes: number, seed = 42): Trace {
  let state = seed >>> 0;
  const rand = (n: number): number => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state % n;
  };
  const letters = 'etaoinshrdlucmfwypvbgkjqxz     .,\n';
  const out: Keystroke[] = [];
  let length = 0;
  let cursor = 0;
  for (let i = 0; i < keystrokes; i++) {
    if (length > 0 && rand(100) < 8) {
      const at = Math.max(0, cursor - 1);
      out.push([[at, 1, '']]);
      length--;
      cursor = at;
    } else {
      out.push([[cursor, 0, letters[rand(letters.length)]!]]);
      length++;
      cursor++;
    }
    if (rand(200) === 0) cursor = rand(length + 1);
  }
  return { name: 'synthetic', keystrokes: out };
}

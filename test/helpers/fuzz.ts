import fc from 'fast-check';

/** Envelope-shaped JSON with random types and data, valid JSON that is not, and byte-level mutations of both. */
export function arbitraryFrame(validTypes: readonly string[], validData: Readonly<Record<string, unknown>> = {}): fc.Arbitrary<string | Buffer> {
  const type = fc.oneof(fc.constantFrom(...validTypes), fc.string({ maxLength: 40 }), fc.constant('__proto__'), fc.constant('constructor'));
  const envelope = fc.record(
    { type, data: fc.oneof(fc.constant(validData), fc.jsonValue({ maxDepth: 3 }), fc.dictionary(fc.string({ maxLength: 10 }), fc.jsonValue({ maxDepth: 2 }))) },
    { requiredKeys: [] },
  );
  const text = fc.oneof(
    envelope.map((e) => JSON.stringify(e)),
    fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
    fc.string({ maxLength: 200 }),
    fc.constantFrom('', '{', '{"type":', 'null', '[]', '{"type":null}', '{"type":1}', '"ping"', '{"type":"ping","data":null}'),
  );
  const mutated = fc.tuple(text, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 })).map(([t, flips]) => {
    const bytes = Buffer.from(t);
    for (const [at, value] of flips) if (bytes.length > 0) bytes[at % bytes.length] = value;
    return bytes.toString('latin1');
  });
  const binary = fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b));
  return fc.oneof({ arbitrary: text, weight: 4 }, { arbitrary: mutated, weight: 2 }, { arbitrary: binary, weight: 1 });
}

/** Seeds that found bugs, replayed on every run as regression tests. */
export const FUZZ_SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);

import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../../src');

/** The layers, innermost first; a file may import its own layer and inner ones only. */
const LAYERS = ['shared', 'protocol', 'core', 'features', 'adapters|transport', 'root'] as const;
const INFRASTRUCTURE = ['fastify', 'ws', 'ioredis', 'kysely', 'pg', 'better-sqlite3'];

function layerOf(path: string): number {
  const top = relative(SRC, path).split('/')[0]!;
  const index = LAYERS.findIndex((layer) => layer.split('|').includes(top));
  return index === -1 ? LAYERS.length - 1 : index;
}

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : path.endsWith('.ts') ? [path] : [];
  });
}

function imports(path: string): string[] {
  const text = readFileSync(path, 'utf8');
  return [...text.matchAll(/^\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]/gm)].map((m) => m[1]!);
}

test('dependencies point inwards: shared ← protocol ← core ← features ← adapters/transport ← root', () => {
  const violations: string[] = [];
  for (const file of files(SRC)) {
    const from = relative(SRC, file);
    const fromLayer = layerOf(file);
    const fromTop = from.split('/')[0];
    for (const spec of imports(file)) {
      if (spec.startsWith('.')) {
        const target = resolve(dirname(file), spec);
        const toLayer = layerOf(target);
        const toTop = relative(SRC, target).split('/')[0];
        if (toLayer > fromLayer) violations.push(`${from} imports outward: ${spec}`);
        if (fromTop !== toTop && ['adapters', 'transport'].includes(fromTop!) && ['adapters', 'transport'].includes(toTop!)) {
          violations.push(`${from}: adapters and transports never import each other (${spec})`);
        }
        if (toTop === 'main.ts' || relative(SRC, target) === 'main.ts') violations.push(`${from} imports main.ts`);
      } else if (fromLayer <= LAYERS.indexOf('features') && INFRASTRUCTURE.includes(spec)) {
        violations.push(`${from} uses infrastructure library ${spec} (belongs in adapters/ or transport/)`);
      }
    }
  }
  assert.deepEqual(violations, []);
});

test('a feature never reaches into another feature', () => {
  const violations: string[] = [];
  for (const file of files(join(SRC, 'features'))) {
    const feature = relative(join(SRC, 'features'), file).split('/')[0];
    for (const spec of imports(file)) {
      if (!spec.startsWith('.')) continue;
      const target = relative(join(SRC, 'features'), resolve(dirname(file), spec));
      if (!target.startsWith('..') && target.split('/')[0] !== feature) violations.push(`${relative(SRC, file)} → ${spec}`);
    }
  }
  assert.deepEqual(violations, []);
});

import { join } from 'node:path';
import { createTestDatabase } from './postgres.js';
import { tempDir } from './server.js';

/** The storage back ends every store contract suite runs against, each with a fresh database. */
export const DIALECTS = [
  { name: 'sqlite', url: async () => `sqlite:${join(tempDir(), 'test.db')}` },
  { name: 'postgres', url: createTestDatabase },
] as const;

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { CloseCodes } from '../../src/protocol/close-codes.js';
import { ErrorCodes } from '../../src/protocol/error-codes.js';

const protocol = readFileSync(new URL('../../docs/protocol.md', import.meta.url), 'utf8');

test('every close code is documented in docs/protocol.md', () => {
  for (const { code } of Object.values(CloseCodes)) assert.match(protocol, new RegExp(`^\\| ${code} \\|`, 'm'), `close code ${code}`);
});

test('every error code is documented in docs/protocol.md', () => {
  for (const code of Object.keys(ErrorCodes)) assert.ok(protocol.includes(`\`${code}\``), `error code ${code}`);
});

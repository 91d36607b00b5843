import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config/config.js';

test('defaults match the spec', () => {
  const c = loadConfig({});
  assert.equal(c.port, 8000);
  assert.equal(c.host, '0.0.0.0');
  assert.equal(c.databaseUrl, 'sqlite:./data/realtime.db');
  assert.equal(c.saveIntervalMs, 5000);
  assert.equal(c.heartbeatIntervalMs, 30000);
  assert.equal(c.healthIntervalMs, 15000);
  assert.equal(c.limits.maxMessageBytes, 65536);
  assert.equal(c.limits.yjsMaxMessageBytes, 16 * 1024 * 1024);
  assert.equal(c.limits.ratePerSecond, 20);
  assert.equal(c.limits.maxConnectionsPerUser, 20);
  assert.equal(c.limits.sendBufferLimitBytes, 8 * 1024 * 1024);
  assert.equal(c.eventRetentionMs, 72 * 3600 * 1000);
  assert.deepEqual(c.allowedOrigins, []);
  assert.equal(c.logLevel, 'info');
});

test('parses lists and numbers', () => {
  const c = loadConfig({ ALLOWED_ORIGINS: 'https://a.example, https://b.example', PORT: '9000', SAVE_INTERVAL_SECONDS: '0.5' });
  assert.deepEqual(c.allowedOrigins, ['https://a.example', 'https://b.example']);
  assert.equal(c.port, 9000);
  assert.equal(c.saveIntervalMs, 500);
});

for (const [variable, value] of [
  ['PORT', '70000'],
  ['PORT', 'abc'],
  ['HEARTBEAT_INTERVAL_SECONDS', '-1'],
  ['LOG_LEVEL', 'loud'],
  ['DATABASE_URL', 'mysql://x'],
  ['REDIS_URL', 'http://x'],
  ['MAX_CONNECTIONS_PER_USER', '2.5'],
  ['JWT_SECRET', 'short'],
] as const) {
  test(`a bad ${variable} (${value}) is named in the error`, () => {
    assert.throws(
      () => loadConfig({ [variable]: value }),
      (error: unknown) => error instanceof ConfigError && error.variable === variable && error.message.includes(variable),
    );
  });
}

test('secrets are never echoed in config errors', () => {
  assert.throws(
    () => loadConfig({ JWT_SECRET: 'tiny' }),
    (error: unknown) => error instanceof ConfigError && !error.message.includes('tiny'),
  );
});

test('production needs a JWT key and a publish key', () => {
  assert.throws(() => loadConfig({ NODE_ENV: 'production', PUBLISH_API_KEY: 'k' }), /JWT_SECRET/);
  assert.throws(() => loadConfig({ NODE_ENV: 'production', JWT_SECRET: 'a-long-enough-secret' }), /PUBLISH_API_KEY/);
  assert.equal(loadConfig({ NODE_ENV: 'production', JWT_JWKS_URL: 'https://id.example/jwks', PUBLISH_API_KEY: 'k' }).production, true);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateConfig } from '../../../src/config/schema';
import { ConfigError } from '../../../src/config/problem';
import { defaultConfig } from '../../../src/config/defaults';
import { withSection } from '../../../src/config/section';
import { healthSection, opsSettings, statusSection, validateHealth, validateStatus } from '../../../src/ops/ops-config';
import { opsPartFactory, statusUrl } from '../../../src/ops/ops-part';

const validators = { sections: [statusSection, healthSection] };

test('both sections are optional and default to on, loopback, port 8089, the first realm', () => {
  const { config, problems } = validateConfig({ realms: [{ name: 'iot' }, { name: 'other' }] }, validators);
  assert.deepEqual(problems, []);
  assert.ok(config);
  assert.deepEqual(opsSettings(config), {
    status: { enabled: true, host: '127.0.0.1', port: 8089, allowRemote: false, sampleIntervalMs: 10_000 },
    health: { enabled: true, intervalMs: 10_000, topic: 'wampgate.health', realm: 'iot' },
  });
});

test('every problem is reported with its path', () => {
  const { problems } = validateConfig(
    {
      status: { enabled: 'yes', port: 70000, colour: 'red', allowRemote: 1 },
      health: { intervalMs: 10, topic: 'not a uri!', realm: 5, extra: true },
    },
    validators,
  );
  assert.deepEqual(problems.map((p) => p.path).sort(), [
    'health.extra',
    'health.intervalMs',
    'health.realm',
    'health.topic',
    'status.allowRemote',
    'status.colour',
    'status.enabled',
    'status.port',
  ]);
  assert.deepEqual(
    validateStatus([], 'status').map((p) => p.path),
    ['status'],
  );
  assert.deepEqual(
    validateHealth('x', 'health').map((p) => p.path),
    ['health'],
  );
});

test('a non-loopback status host needs "allowRemote": true', () => {
  const bad = validateStatus({ host: '0.0.0.0' }, 'status');
  assert.equal(bad.length, 1);
  assert.equal(bad[0]?.path, 'status.host');
  assert.match(bad[0]?.message ?? '', /allowRemote/);
  assert.deepEqual(validateStatus({ host: '0.0.0.0', allowRemote: true }, 'status'), []);
  assert.deepEqual(validateStatus({ host: '127.0.0.2' }, 'status'), []);
  assert.deepEqual(validateStatus({ host: 'localhost', port: 0 }, 'status'), []);
});

test('a health realm that is not configured is a config error with its path (the section sees the realms)', () => {
  assert.deepEqual(
    validateConfig({ health: { realm: 'nope' } }, validators).problems.map((p) => p.path),
    ['health.realm'],
  );
  assert.throws(
    () => withSection(defaultConfig(), healthSection, { realm: 'nope' }),
    (err: unknown) => err instanceof ConfigError && err.problems[0]?.path === 'health.realm',
  );
  assert.equal(opsPartFactory(withSection(defaultConfig(), healthSection, { realm: 'nope', enabled: false })).length, 1);
});

test('statusUrl reaches a wildcard bind over loopback', () => {
  assert.equal(statusUrl({ host: '0.0.0.0', port: 8089 }), 'http://127.0.0.1:8089/');
  assert.equal(statusUrl({ host: '::', port: 1 }), 'http://[::1]:1/');
  assert.equal(statusUrl({ host: '192.168.1.2', port: 80 }, 81), 'http://192.168.1.2:81/');
});

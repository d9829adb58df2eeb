// The history config: realm rules and the top-level section are checked with paths (through
// the same validateConfig as `wampgate check`), and defaults are resolved once.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { configPlugins } from '../../../src/cli/wiring';
import { validateConfig } from '../../../src/config/schema';
import { defaultHistorySettings, DEFAULT_MAX_EVENTS, historySection, resolveRules } from '../../../src/history/history-config';

test('every problem in realm history rules and the history section is reported with its path', () => {
  const { problems } = validateConfig(
    {
      realms: [
        {
          name: 'realm1',
          history: [{ uri: 'a b', maxEvents: 0 }, { uri: 'x.', match: 'fuzzy' }, { uri: 'ok', maxAgeMs: 10, colour: 1 }, 'nope'],
        },
      ],
      history: { maxBytes: 5, flushIntervalMs: 60_000, extra: true },
    },
    configPlugins,
  );
  assert.deepEqual(
    problems.map((p) => p.path),
    [
      'realms[0].history[0].uri',
      'realms[0].history[0].maxEvents',
      'realms[0].history[1].match',
      'realms[0].history[2].colour',
      'realms[0].history[2].maxAgeMs',
      'realms[0].history[3]',
      'history.extra',
      'history.maxBytes',
      'history.flushIntervalMs',
    ],
  );
});

test('a valid history config passes and resolves with defaults', () => {
  const raw = {
    realms: [
      {
        name: 'realm1',
        history: [
          { uri: 'sensors.', match: 'prefix', maxAgeMs: 3_600_000 },
          { uri: 'cmd..state', match: 'wildcard', maxEvents: 5 },
        ],
      },
    ],
    history: { maxBytes: 1048576 },
  };
  const { config, problems } = validateConfig(raw, configPlugins);
  assert.deepEqual(problems, []);
  assert.deepEqual(resolveRules(config?.realms[0]?.history), [
    { uri: 'sensors.', match: 'prefix', maxEvents: DEFAULT_MAX_EVENTS, maxAgeMs: 3_600_000 },
    { uri: 'cmd..state', match: 'wildcard', maxEvents: 5, maxAgeMs: null },
  ]);
  assert.deepEqual(config?.sections?.get(historySection), { ...defaultHistorySettings, maxBytes: 1048576 });
});

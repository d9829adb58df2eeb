// Tests src/util/logger.ts's journald mode (kept with the ops tests: journald is an ops concern).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fstatSync, mkdtempSync, openSync, closeSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger, isJournalStream, withJournalPriority, type LogLevel } from '../../../src/util/logger';

function capture(journal: boolean): { lines: Array<[LogLevel, string]>; logger: ReturnType<typeof createLogger> } {
  const lines: Array<[LogLevel, string]> = [];
  return { lines, logger: createLogger({ level: 'debug', journal, write: (level, text) => lines.push([level, text]) }) };
}

test('under journald each line starts with its syslog priority and has no timestamp', () => {
  const { lines, logger } = capture(true);
  const log = logger.child('x');
  log.error('e', { code: 1 });
  log.warn('w');
  log.info('i');
  log.debug('d');
  assert.deepEqual(
    lines.map(([, t]) => t),
    ['<3>ERROR [wampgate.x] e code=1\n', '<4>WARN  [wampgate.x] w\n', '<6>INFO  [wampgate.x] i\n', '<7>DEBUG [wampgate.x] d\n'],
  );
});

test('outside journald lines are unchanged: timestamp, no prefix', () => {
  const { lines, logger } = capture(false);
  logger.warn('w');
  assert.match(lines[0]?.[1] ?? '', /^\d{4}-\d\d-\d\dT[\d:.]+Z WARN  \[wampgate\] w\n$/);
});

test('every line of a multi-line message (a stack trace) keeps the priority', () => {
  assert.equal(withJournalPriority('error', 'a\n  at b\n  at c\n'), '<3>a\n<3>  at b\n<3>  at c\n');
  assert.equal(withJournalPriority('info', 'one'), '<6>one');
});

test('JOURNAL_STREAM counts only when it names the descriptor we write to', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wampgate-journal-'));
  const fd = openSync(join(dir, 'f'), 'w');
  try {
    const st = fstatSync(fd, { bigint: true });
    assert.equal(isJournalStream({ JOURNAL_STREAM: `${st.dev}:${st.ino}` }, [fd]), true);
    assert.equal(isJournalStream({ JOURNAL_STREAM: `${st.dev}:${st.ino + 1n}` }, [fd]), false, 'inherited by a process writing elsewhere');
    assert.equal(isJournalStream({ JOURNAL_STREAM: 'garbage' }, [fd]), false);
    assert.equal(isJournalStream({}, [fd]), false);
  } finally {
    closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  }
});

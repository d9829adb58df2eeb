// "Commit confirmed" on disk: the config applied remotely, the one it replaced, and the deadline by
// which it must be confirmed, each in its own file under <dataDir>/admin/ and written atomically,
// so a crash or a reboot between apply and confirm still ends in the right config. Deciding when
// to apply or roll back is the controller's job (cli/config-control.ts); this file only keeps state.

import { createHash } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/** A config as the operator wrote it (JSON), with the base file it was derived from. */
export interface StoredConfig {
  /** sha256 of the config file on the board when this was applied: an operator who edits that
   * file on the board later wins over what was applied remotely. */
  baseSha256: string;
  config: unknown;
}

export interface PendingApply {
  /** Epoch ms: without config.confirm by then, the previous config comes back. */
  deadline: number;
  appliedAt: number;
  /** Where the previous config is: `previous.json`, or the base file itself. */
  previous: 'stored' | 'base';
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function writeAtomic(path: string, value: unknown): void {
  const tmp = `${path}.tmp`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, JSON.stringify(value, null, 2) + '\n');
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

function readJson<T>(path: string): T | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new Error(`${path}: ${(err as Error).message}`);
  }
}

export class CommitConfirmedStore {
  readonly dir: string;
  private readonly files: { applied: string; previous: string; pending: string };

  constructor(dataDir: string) {
    this.dir = join(dataDir, 'admin');
    this.files = { applied: join(this.dir, 'applied.json'), previous: join(this.dir, 'previous.json'), pending: join(this.dir, 'pending.json') };
  }

  applied(): StoredConfig | undefined {
    return readJson<StoredConfig>(this.files.applied);
  }

  pending(): PendingApply | undefined {
    return readJson<PendingApply>(this.files.pending);
  }

  /** Records an apply: the running config (undefined = the base file) becomes the previous one.
   * Pending is written last: a crash before it leaves an applied config that simply stays. */
  begin(running: StoredConfig | undefined, next: StoredConfig, deadline: number, now = Date.now()): PendingApply {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    if (running) writeAtomic(this.files.previous, running);
    else rmSync(this.files.previous, { force: true });
    writeAtomic(this.files.applied, next);
    const pending: PendingApply = { deadline, appliedAt: now, previous: running ? 'stored' : 'base' };
    writeAtomic(this.files.pending, pending);
    return pending;
  }

  /** The applied config stays; the previous one is forgotten. */
  confirm(): void {
    rmSync(this.files.pending, { force: true });
    rmSync(this.files.previous, { force: true });
  }

  /** Puts the previous config back (or the base file); returns what now runs (undefined = base). */
  rollback(): StoredConfig | undefined {
    const pending = this.pending();
    const previous = pending?.previous === 'stored' ? readJson<StoredConfig>(this.files.previous) : undefined;
    if (previous) writeAtomic(this.files.applied, previous);
    else rmSync(this.files.applied, { force: true });
    rmSync(this.files.pending, { force: true });
    rmSync(this.files.previous, { force: true });
    return previous;
  }

  /** Drops everything (the base file changed on the board). */
  clear(): void {
    for (const f of Object.values(this.files)) rmSync(f, { force: true });
  }
}

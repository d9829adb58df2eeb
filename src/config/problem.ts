// A configuration problem with the path where it was found (e.g. "listeners[1].port"), so
// `wampgate check` can report every problem at once (DESIGN §3: config errors).

export interface ConfigProblem {
  path: string;
  message: string;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly problems: ConfigProblem[]) {
    super(problems.map((p) => `${p.path}: ${p.message}`).join('\n'));
  }
}

/** Small helpers for hand-written validators: each returns true when the value is fine. */
export class ProblemList {
  readonly problems: ConfigProblem[] = [];
  add(path: string, message: string): void {
    this.problems.push({ path, message });
  }
  get ok(): boolean {
    return this.problems.length === 0;
  }
}

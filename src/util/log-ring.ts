// The last log lines in memory, bounded by count and bytes, for `logs.tail` over the admin
// procedures (a board's journal is out of reach from the cloud). Fed by the logger's write hook.

export class LogRing {
  private readonly lines: string[] = [];
  private bytes = 0;

  constructor(
    private readonly maxLines = 1000,
    private readonly maxBytes = 256 * 1024,
  ) {}

  push(text: string): void {
    for (const raw of text.split('\n')) {
      if (raw === '') continue;
      // A journald priority prefix means nothing off the board.
      const line = raw.replace(/^<\d>/, '');
      this.lines.push(line);
      this.bytes += line.length;
    }
    while (this.lines.length > this.maxLines || (this.bytes > this.maxBytes && this.lines.length > 1)) this.bytes -= this.lines.shift()?.length ?? 0;
  }

  /** The newest `n` lines, oldest first. */
  tail(n: number): string[] {
    return this.lines.slice(Math.max(0, this.lines.length - n));
  }
}

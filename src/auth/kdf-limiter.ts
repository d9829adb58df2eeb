// Bounds the key derivations ticket checks put on libuv's thread pool, process-wide: at most
// `concurrency` run at once and `maxQueued` wait; an attempt beyond that is refused at once
// instead of queueing into the HELLO timeout. Owns only the queue; the ticket authenticator
// decides what a refusal answers.

import type { Kdf, Pbkdf2Params } from './principals';

export interface KdfLimits {
  /** Derivations running at once (each takes one of libuv's 4 pool threads). */
  concurrency: number;
  /** Derivations waiting for a free slot; more are refused. */
  maxQueued: number;
}

export interface KdfLimiterStats {
  running: number;
  queued: number;
  /** Attempts refused because the queue was full, since start. */
  refused: number;
  peakQueued: number;
}

/** Thrown (as a rejection) by a limited Kdf when the queue is full. */
export class KdfBusyError extends Error {
  constructor() {
    super('too many key derivations in progress');
    this.name = 'KdfBusyError';
  }
}

export class KdfLimiter {
  readonly stats: KdfLimiterStats = { running: 0, queued: 0, refused: 0, peakQueued: 0 };
  private readonly waiting: Array<() => void> = [];

  constructor(
    private readonly inner: Kdf,
    readonly limits: KdfLimits,
  ) {}

  /** Whether an attempt starting now would be refused: the check before a CHALLENGE is sent. */
  get full(): boolean {
    return this.stats.running >= this.limits.concurrency && this.waiting.length >= this.limits.maxQueued;
  }

  /** The limited derivation, to hand to the ticket authenticator. */
  readonly kdf: Kdf = (presented: string, params: Pbkdf2Params): Promise<Buffer> => {
    if (this.stats.running < this.limits.concurrency) return this.start(presented, params);
    if (this.waiting.length >= this.limits.maxQueued) {
      this.stats.refused++;
      return Promise.reject(new KdfBusyError());
    }
    return new Promise<Buffer>((resolve, reject) => {
      this.waiting.push(() => this.start(presented, params).then(resolve, reject));
      this.stats.queued = this.waiting.length;
      if (this.stats.queued > this.stats.peakQueued) this.stats.peakQueued = this.stats.queued;
    });
  };

  private async start(presented: string, params: Pbkdf2Params): Promise<Buffer> {
    this.stats.running++;
    try {
      return await this.inner(presented, params);
    } finally {
      this.stats.running--;
      const next = this.waiting.shift();
      this.stats.queued = this.waiting.length;
      next?.();
    }
  }
}

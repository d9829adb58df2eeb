// The client's outstanding requests: its request IDs and, per request, the promise waiting for
// the router's answer (SUBSCRIBED, PUBLISHED, REGISTERED, progressive and final RESULT, ERROR).
// Which messages to send and what the answers mean belong to WampClient.

import { ErrorUri } from '../protocol/error-uris';
import { SequentialIds, type RequestId } from '../protocol/ids';
import type { Message } from '../protocol/messages';
import type { CallResult } from './client-api';
import { WampError } from './wamp-error';

interface Pending {
  resolve(value: unknown): void;
  reject(err: Error): void;
  onProgress?: (r: CallResult) => void;
}

export class PendingRequests {
  private readonly ids = new SequentialIds();
  /** request id -> the promise waiting for its answer (SUBSCRIBED, RESULT, ERROR …). */
  private readonly pending = new Map<number, Pending>();

  /** A request ID for a message that expects no answer (an unacknowledged PUBLISH). */
  nextId(): RequestId {
    return this.ids.next() as RequestId;
  }

  /** Sends `build(request)` and waits for its answer; `onAnswer` runs the moment it arrives,
   * before the promise resumes anyone. */
  open(
    build: (request: RequestId) => Message,
    send: (msg: Message) => unknown,
    onProgress?: (r: CallResult) => void,
    onAnswer?: (value: unknown) => void,
  ): Promise<unknown> {
    const request = this.nextId();
    return new Promise((resolve, reject) => {
      const entry: Pending = {
        resolve: onAnswer
          ? (value) => {
              onAnswer(value);
              resolve(value);
            }
          : resolve,
        reject,
      };
      if (onProgress) entry.onProgress = onProgress;
      this.pending.set(request, entry);
      if (send(build(request)) !== true) {
        // The message never left: no answer will come, so settle it here.
        this.pending.delete(request);
        reject(new WampError(ErrorUri.notSendable, ['the message cannot cross this transport: larger than the peer accepts, or not encodable']));
      }
    });
  }

  has(request: number): boolean {
    return this.pending.has(request);
  }

  settle(request: number, value: unknown): void {
    const p = this.pending.get(request);
    if (!p) return;
    this.pending.delete(request);
    p.resolve(value);
  }

  /** A progressive RESULT: the call goes on. */
  progress(request: number, result: CallResult): void {
    this.pending.get(request)?.onProgress?.(result);
  }

  /** An ERROR answering the request. */
  fail(request: number, err: Error): void {
    const p = this.pending.get(request);
    if (!p) return;
    this.pending.delete(request);
    p.reject(err);
  }

  /** The session ended: no answer will come to anything outstanding. */
  rejectAll(err: Error): void {
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }
}

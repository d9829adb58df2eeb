// Batches a socket's writes per event-loop turn: the first frame of a turn corks the socket and
// the next tick uncorks it, so every frame routed from one inbound chunk (a fan-out, a burst of
// RESULTs) leaves in one writev instead of one system call each. Measured with `npm run bench`:
// the per-frame syscall was ~78% of the router's busy time. Latency is unchanged: the uncork
// runs before any I/O callback of the next turn.

import type { Socket } from 'node:net';

export class WriteBatcher {
  private corked = false;

  constructor(private readonly socket: () => Socket | undefined) {}

  /** Call before writing a frame. */
  hold(): void {
    if (this.corked) return;
    const socket = this.socket();
    if (!socket || socket.destroyed) return;
    this.corked = true;
    socket.cork();
    process.nextTick(() => {
      this.corked = false;
      // Node's cork is counted: the writer's own cork/uncork pairs nest inside this one.
      if (!socket.destroyed) socket.uncork();
    });
  }
}

// Preloaded into the gateway process by bench/uplink.ts (`node -r dist/bench/uplink-memprobe.js
// bin/wampgate.js start …`): answers 'mem' on the IPC channel with process.memoryUsage() and V8's
// heap statistics, so the benchmark can tell the JS heap from native memory (SQLite's page cache,
// malloc arenas) without changing the gateway. Does nothing without an IPC channel.

import v8 from 'node:v8';

if (process.send) {
  process.on('message', (m: unknown) => {
    if (m === 'gc') (globalThis as { gc?: () => void }).gc?.();
    if (m !== 'mem' && m !== 'gc') return;
    const heap = v8.getHeapStatistics();
    process.send?.({
      mem: process.memoryUsage(),
      heap: { total: heap.total_heap_size, used: heap.used_heap_size, malloced: heap.malloced_memory, peakMalloced: heap.peak_malloced_memory },
    });
  });
  // The channel must not keep the gateway alive, nor hold its shutdown.
  process.channel?.unref();
}

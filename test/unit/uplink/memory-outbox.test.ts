// Runs the shared Outbox contract suite against MemoryOutbox.
// Nothing storage-specific here: the memory outbox has no file to reopen, fill or corrupt.

import { outboxSuite } from './outbox-suite';
import { MemoryOutbox } from '../../../src/uplink/memory-outbox';

outboxSuite('MemoryOutbox', (options) => new MemoryOutbox(options));

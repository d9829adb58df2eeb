// The uplink as a gateway part: turns the resolved `uplink` config section (uplink-section.ts)
// into a running Uplink with its outbox (SQLite file under dataDir, or memory) and maps its status
// into the parts' one vocabulary. Wiring into the CLI is cli/wiring.ts's job; what the uplink does
// is uplink.ts's.

import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { sectionOf } from '../config/section';
import type { GatewayConfig } from '../config/types';
import type { BufferStatus, GatewayPart, PartContext, PartFactory, PartState, PartStatus } from '../gateway-part';
import { redactUrl } from '../util/redact-url';
import { fingerprint } from '../util/fingerprint';
import { MemoryOutbox } from './memory-outbox';
import type { Outbox } from './outbox';
import type { UplinkState } from './remote-link';
import type { UplinkStatus, Uplink } from './uplink';
import type { ResolvedUplinkConfig } from './uplink-config';
import { uplinkSection } from './uplink-section';

/** SQLite's default page size; max_page_count counts these. */
const PAGE_BYTES = 4096;

export function openOutbox(config: ResolvedUplinkConfig, ctx: Pick<PartContext, 'logger'>): Outbox {
  const b = config.buffer;
  const limits = { maxCount: b.maxCount, maxBytes: b.maxBytes, maxAgeMs: b.maxAgeMs, dropPolicy: b.dropPolicy, maxDeadLetters: b.maxDeadLetters };
  if (b.storage === 'memory') return new MemoryOutbox(limits);
  mkdirSync(dirname(b.path), { recursive: true });
  // Loaded only when an uplink is configured: better-sqlite3 is a native module.
  const { SqliteOutbox } = require('./sqlite-outbox') as typeof import('./sqlite-outbox');
  return new SqliteOutbox({
    ...limits,
    path: b.path,
    durability: b.durability,
    logger: ctx.logger,
    ...(b.maxFileBytes !== undefined ? { maxPageCount: Math.max(16, Math.floor(b.maxFileBytes / PAGE_BYTES)) } : {}),
  });
}

const STATE: Record<UplinkState, PartState> = {
  connecting: 'connecting',
  online: 'connected',
  offline: 'disconnected',
  stopped: 'stopped',
};

function bufferStatus(o: UplinkStatus['outbox']): BufferStatus {
  let drops = 0;
  for (const n of Object.values(o.drops)) drops += n;
  return {
    depth: o.count,
    bytes: o.bytes,
    oldestAgeSeconds: o.oldestAgeMs === null ? null : o.oldestAgeMs / 1000,
    drops,
    deadLetters: { count: o.deadLetters.count, moved: { ...o.deadLetters.moved } },
  };
}

export function uplinkPartStatus(s: UplinkStatus): PartStatus {
  return {
    kind: 'uplink',
    role: 'uplink',
    name: 'uplink',
    state: STATE[s.state],
    since: s.since,
    lastError: s.lastError,
    counters: { ...s.counters },
    target: redactUrl(s.url),
    realm: s.realm,
    buffer: bufferStatus(s.outbox),
    replay: { active: s.replay.active, backlogAtStart: s.replay.backlogAtStart, acked: s.replay.acked },
    detail: s,
  };
}

export class UplinkPart implements GatewayPart {
  readonly name = 'uplink';
  private uplink: Uplink | undefined;

  /** What start() reads: the resolved section, and the realms and limits it was resolved
   * against (kept from before sections were typed: adding a realm restarts the uplink). */
  readonly configKey: string;

  constructor(
    private readonly config: ResolvedUplinkConfig,
    gateway: GatewayConfig,
  ) {
    this.configKey = fingerprint({
      section: config,
      realms: gateway.realms.map((r) => r.name),
      maxMessageBytes: gateway.limits.maxMessageBytes,
      dataDir: gateway.dataDir,
    });
  }

  async start(ctx: PartContext): Promise<void> {
    const config = this.config;
    const outbox = openOutbox(config, ctx);
    const { Uplink } = require('./uplink') as typeof import('./uplink');
    const uplink = new Uplink(config, { router: ctx.sessions, outbox, logger: ctx.logger, ...(ctx.cloud ? { cloud: ctx.cloud } : {}) });
    try {
      await uplink.start();
    } catch (err) {
      await uplink.stop().catch(() => undefined);
      throw err;
    }
    this.uplink = uplink;
  }

  async stop(): Promise<void> {
    await this.uplink?.stop();
  }

  status(): PartStatus {
    if (this.uplink) return uplinkPartStatus(this.uplink.status());
    return { kind: 'uplink', role: 'uplink', name: 'uplink', state: 'stopped', since: null, lastError: null, counters: {} };
  }

  /** The running uplink (tests and embedding). */
  get running(): Uplink | undefined {
    return this.uplink;
  }
}

/** One uplink when the config has an `uplink` section. */
export const uplinkPartFactory: PartFactory = (config) => {
  const section = sectionOf(config, uplinkSection);
  return section ? [new UplinkPart(section, config)] : [];
};

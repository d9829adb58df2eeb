// Owns the status page's Board card: CPU load and temperature, memory, throttling flags, disk,
// this process's footprint and the network interfaces, with their last-hour charts. Does not own
// taking the health snapshot (health.ts).

import { escapeHtml as esc } from './charts';
import { formatBytes, formatDuration } from './format';
import { badge, chart, line, values, type View } from './page-view';
import { SeriesName } from './status-sampler';
import type { GatewayStatus } from './status-types';

/** Firmware throttling flags (each has a "…Now" and an "…Occurred" bit) -> what a person reads. */
const THROTTLE_WORDS = [
  ['underVoltage', 'under-voltage'],
  ['frequencyCapped', 'frequency capped'],
  ['throttled', 'throttled'],
  ['softTempLimit', 'soft temperature limit'],
] as const;

export function boardCard(st: GatewayStatus, v: View): string {
  const h = st.health;
  if (!h) return '';
  let html = `<section class="card" data-card="board"><h2>Board</h2>`;
  const model = h.board.model ?? h.board.cpuBrand ?? h.board.arch;
  html += `<p class="small muted">${esc([model, h.board.os, `Node ${h.board.nodeVersion}`].filter(Boolean).join(' · '))}, up ${esc(formatDuration(h.uptimeSeconds))}</p>`;
  html += chart(v, {
    id: 'cpu',
    title: 'CPU load in percent',
    lines: [line(v, SeriesName.cpu, 'CPU')],
    format: (x) => `${x.toFixed(0)}%`,
    top: 100,
  });
  if (h.cpu.temperatureC !== null || values(v, SeriesName.temperature).some((x) => x !== null)) {
    html += chart(v, {
      id: 'temperature',
      title: 'CPU temperature',
      lines: [line(v, SeriesName.temperature, 'Temperature')],
      format: (x) => `${x.toFixed(0)} °C`,
      minTop: 50,
    });
  }
  html += chart(v, {
    id: 'memory',
    title: 'Memory in use',
    lines: [line(v, SeriesName.memoryUsed, 'Board in use'), line(v, SeriesName.rss, 'wampgate')],
    format: formatBytes,
    ...(h.memory.totalBytes ? { top: h.memory.totalBytes } : {}),
  });
  const t = h.throttled;
  let throttle = '';
  if (t) {
    const now = THROTTLE_WORDS.filter(([flag]) => t[`${flag}Now` as const]).map(([, word]) => word);
    const ever = THROTTLE_WORDS.filter(([flag]) => t[`${flag}Occurred` as const]).map(([, word]) => word);
    throttle =
      (now.length ? badge(`now: ${now.join(', ')}`, 'bad') : '') +
      (ever.length ? ` ${badge(`since boot: ${ever.join(', ')}`, 'warn')}` : '') +
      (!now.length && !ever.length ? badge('none', 'ok') : '');
  }
  const m = h.memory;
  const disk = h.disk;
  html += `<dl class="kv">`;
  html += `<dt>CPU</dt><dd>load ${[h.cpu.load1, h.cpu.load5, h.cpu.load15].map((x) => x.toFixed(2)).join(' ')} (${h.board.cpuCores} cores)</dd>`;
  if (throttle) html += `<dt>Throttling</dt><dd>${throttle}</dd>`;
  html += `<dt>Memory</dt><dd>${esc(formatBytes(m.availableBytes))} free of ${esc(formatBytes(m.totalBytes))}</dd>`;
  if (m.swapTotalBytes) html += `<dt>Swap</dt><dd>${esc(formatBytes(m.swapUsedBytes))} used of ${esc(formatBytes(m.swapTotalBytes))}</dd>`;
  if (disk)
    html += `<dt>Disk</dt><dd>${esc(formatBytes(disk.availableBytes))} free of ${esc(formatBytes(disk.totalBytes))} (${(disk.usedRatio * 100).toFixed(0)}% used)<br><span class="muted small">${esc(disk.path)}</span></dd>`;
  html += `<dt>wampgate</dt><dd>${esc(formatBytes(h.process.rssBytes))} RSS, heap ${esc(formatBytes(h.process.heapUsedBytes))}${h.process.cpuUsage !== null ? `, CPU ${(h.process.cpuUsage * 100).toFixed(0)}%` : ''}</dd>`;
  html += `</dl>`;
  if (h.network.length > 0) {
    const rows = h.network
      .map(
        (n) =>
          `<tr><td>${esc(n.name)}<br><span class="muted small">${esc(n.ip4 ?? '')}</span></td><td>${badge(n.up ? 'up' : 'down', n.up ? 'ok' : 'bad')}</td><td class="n">${esc(formatBytes(n.rxBytes))}</td><td class="n">${esc(formatBytes(n.txBytes))}</td></tr>`,
      )
      .join('');
    html += `<table><thead><tr><th>Network</th><th>State</th><th class="n">Received</th><th class="n">Sent</th></tr></thead><tbody>${rows}</tbody></table>`;
  }
  return html + '</section>';
}

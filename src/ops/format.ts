// Owns how numbers, byte sizes and durations read on the status page and in `wampgate status`:
// "10k", "1.5 MiB", "3 h 5 min". Does not own where they are shown.

export function formatCount(n: number): string {
  if (!Number.isFinite(n)) return '–';
  const a = Math.abs(n);
  // "10k", not "10.0k": one decimal only where it says something.
  const short = (x: number, unit: string): string => `${x >= 10 ? Math.round(x) : Number(x.toFixed(1))}${unit}`;
  if (a >= 1e9) return short(n / 1e9, 'G');
  if (a >= 1e6) return short(n / 1e6, 'M');
  if (a >= 1e4) return short(n / 1e3, 'k');
  if (Number.isInteger(n)) return groupThousands(n);
  return a >= 10 ? groupThousands(Math.round(n)) : n.toFixed(1);
}

/** An integer with thousands separators, as toLocaleString('en-US') writes it, at a fraction of its cost. */
export function groupThousands(i: number): string {
  const digits = String(Math.abs(i));
  let out = digits.slice(0, ((digits.length - 1) % 3) + 1);
  for (let k = out.length; k < digits.length; k += 3) out += ',' + digits.slice(k, k + 3);
  return i < 0 ? '-' + out : out;
}

export function formatBytes(n: number | null | undefined): string {
  if (typeof n !== 'number' || !Number.isFinite(n)) return '–';
  const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (Math.abs(n) >= 1024 && i < u.length - 1) {
    n /= 1024;
    i++;
  }
  return `${i === 0 ? n : n.toFixed(n < 10 ? 1 : 0)} ${u[i]}`;
}

/** "45 s", "12 min", "3 h 5 min", "2 d 4 h". */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '–';
  const s = Math.floor(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  return `${Math.floor(s / 86400)} d ${Math.floor((s % 86400) / 3600)} h`;
}

export const perSecond = (v: number): string => `${formatCount(v)}/s`;
export const perMinute = (v: number): string => `${formatCount(v)}/min`;

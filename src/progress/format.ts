/** 812, 41.2k, 1.35M */
export function formatRate(perSecond: number): string {
  if (!Number.isFinite(perSecond)) return '-';
  if (perSecond < 999.5) return String(Math.round(perSecond));
  if (perSecond < 999_950) return `${(perSecond / 1e3).toFixed(1)}k`;
  return `${(perSecond / 1e6).toFixed(2)}M`;
}

/** 45s, 1m32s, 2h05m */
export function formatDuration(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds)) return '-';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${pad2(s % 60)}s`;
  return `${Math.floor(m / 60)}h${pad2(m % 60)}m`;
}

/** A count of minutes as given: '1 minute', '0.5 minutes'. */
export function formatMinutes(minutes: number): string {
  return `${minutes} minute${minutes === 1 ? '' : 's'}`;
}

function pad2(n: number): string {
  return String(n).padStart(2, '0');
}

/** A loss per character in nats, with bits beside it: '1.2345 nats/char (1.7810 bits/char)'. */
export function formatPerChar(nats: number): string {
  return `${nats.toFixed(4)} nats/char (${(nats / Math.LN2).toFixed(4)} bits/char)`;
}

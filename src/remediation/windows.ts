/**
 * Change windows and freezes (remediation.md §2: Cloud Deploy's weekly windows with a time zone,
 * Custodian's `now` conditions for holiday freezes). Pure: time comes only from the caller.
 *
 * - Open when `windows` is empty, or when now's minute is a fire time of ANY window's cron
 *   expression, read in that window's time zone (so `* 9-17 * * 1-5` in Europe/Berlin follows
 *   Berlin's clock across daylight-saving changes).
 * - Closed during any freeze: `from`..`to` inclusive, as calendar days in the freeze's time zone.
 *   A freeze wins over an open window.
 */
import { type CronExpression, CronExpressionParser } from 'cron-parser';
import type { RemediationConfig } from './config.js';

export interface WindowVerdict {
  open: boolean;
  /** null when open. */
  code: 'freeze' | 'window-closed' | null;
  reason: string | null;
}

type Windows = Pick<RemediationConfig, 'windows' | 'freezes'>;

const dayFormats = new Map<string, Intl.DateTimeFormat>();

/** The calendar day (YYYY-MM-DD) `at` falls on in `tz`. */
export function dayIn(at: Date, tz: string): string {
  let fmt = dayFormats.get(tz);
  if (!fmt) {
    fmt = new Intl.DateTimeFormat('en-US', { timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit' });
    dayFormats.set(tz, fmt);
  }
  const parts: Record<string, string> = {};
  for (const p of fmt.formatToParts(at)) parts[p.type] = p.value;
  return `${parts.year}-${parts.month}-${parts.day}`;
}

// Parsed expressions, keyed by window; a config is immutable once loaded, so this only saves work.
const parsed = new WeakMap<object, CronExpression>();

function expression(w: RemediationConfig['windows'][number]): CronExpression {
  let e = parsed.get(w);
  if (!e) {
    e = CronExpressionParser.parse(w.cron, { tz: w.tz });
    parsed.set(w, e);
  }
  return e;
}

export function windowVerdict(config: Windows, now: Date): WindowVerdict {
  for (const f of config.freezes) {
    const today = dayIn(now, f.tz);
    if (f.from <= today && today <= f.to) {
      return {
        open: false,
        code: 'freeze',
        reason: `change freeze ${f.from}..${f.to} (${f.tz}, today is ${today}): ${f.reason}`,
      };
    }
  }
  if (config.windows.length === 0) return { open: true, code: null, reason: null };
  // Five-field expressions fire at second 0: test the start of now's minute.
  const minute = new Date(Math.floor(now.getTime() / 60_000) * 60_000);
  for (const w of config.windows)
    if (expression(w).includesDate(minute)) return { open: true, code: null, reason: null };
  const list = config.windows.map((w) => `"${w.cron}" ${w.tz}`).join(', ');
  return {
    open: false,
    code: 'window-closed',
    reason: `${now.toISOString()} is outside every change window (${list})`,
  };
}

/** Whether remediation may act now as far as windows and freezes go, and why not. */
export function windowState(config: Windows, now: Date): { open: boolean; reason: string | null } {
  const v = windowVerdict(config, now);
  return { open: v.open, reason: v.reason };
}

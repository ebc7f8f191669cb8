/** Reading times people and records write: one parser, so no reader rolls an impossible day over. */

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const isLeap = (y: number) => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;

/** Text that starts like an ISO 8601 date, so parseIsoTime (not Date.parse) must read it. */
const ISO_DATE_PREFIX = /^\d{4}-\d{2}-\d{2}/;

// Date, then optionally a time and a zone. A time without a zone is UTC (below), as a date alone is.
const ISO_TIME = /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?(?:([Zz])|([+-])(\d{2}):?(\d{2}))?$/;

/**
 * An ISO 8601 date (YYYY-MM-DD, meaning the start or end of that UTC day) or time, as ms since
 * the epoch; undefined when it is not one, or names a day or time that does not exist (Date.parse
 * would roll 2026-02-30 over to 2026-03-02). A time without a zone (`2026-03-01T12:00`) is UTC:
 * Date.parse would read it in the machine's zone, so the same command would mean another moment
 * on a machine set to another zone.
 */
export function parseIsoTime(text: string, dateOnly: 'start' | 'end'): number | undefined {
  const m = ISO_TIME.exec(text.trim());
  if (m === null) return undefined;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const days = month === 2 && isLeap(year) ? 29 : DAYS_IN_MONTH[month - 1];
  if (days === undefined || day < 1 || day > days) return undefined;
  if (m[4] === undefined) {
    if (m[8] !== undefined || m[9] !== undefined) return undefined; // a zone needs a time
    return utc(year, month, day, dateOnly === 'start' ? [0, 0, 0, 0] : [23, 59, 59, 999]);
  }
  const [h, mi, s] = [Number(m[4]), Number(m[5]), Number(m[6] ?? 0)];
  const ms = Number(`${m[7] ?? ''}000`.slice(0, 3)); // milliseconds, the rest cut off as Date.parse does
  // 24:00 is the end of the day (ISO 8601, and Date.parse accepts it); a leap second is not representable.
  if (h === 24 ? mi !== 0 || s !== 0 || ms !== 0 : h > 23 || mi > 59 || s > 59) return undefined;
  let offsetMs = 0;
  if (m[9] !== undefined) {
    const [oh, om] = [Number(m[10]), Number(m[11])];
    if (oh > 23 || om > 59) return undefined;
    offsetMs = (m[9] === '-' ? -1 : 1) * (oh * 60 + om) * 60_000;
  }
  return utc(year, month, day, [h, mi, s, ms]) - offsetMs;
}

/** ms since the epoch of a UTC date and time; setUTCFullYear, because Date.UTC reads years 0–99 as 1900–1999. */
function utc(year: number, month: number, day: number, [h, mi, s, ms]: number[]): number {
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day);
  d.setUTCHours(h!, mi!, s!, ms!);
  return d.getTime();
}

// A zone Date.parse understands in RFC 2822 and similar text: a name (GMT, UTC, Z, US zones) or an offset.
const NAMED_ZONE = /(?:^|[\s\d])(?:GMT|UTC|UT|Z|[ECMP][SD]T)(?:$|[\s+-])|[+-]\d{2}:?\d{2}\s*(?:\(.*\))?\s*$/i;

/**
 * A record's time as written by a dispatcher: ISO 8601 through parseIsoTime, other text (RFC 2822)
 * through Date.parse, in UTC when it names no zone. ms since the epoch, or undefined.
 */
export function parseTimeText(text: string): number | undefined {
  const t = text.trim();
  if (ISO_DATE_PREFIX.test(t)) return parseIsoTime(t, 'start');
  const ms = Date.parse(NAMED_ZONE.test(t) ? t : `${t} UTC`);
  return Number.isNaN(ms) ? undefined : ms;
}

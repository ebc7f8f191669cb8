/** Reading times people and records write: one parser, so no reader rolls an impossible day over. */

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const isLeap = (y: number) => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;

/** Text that starts like an ISO 8601 date, so parseIsoTime (not Date.parse) must read it. */
export const ISO_DATE_PREFIX = /^\d{4}-\d{2}-\d{2}/;

/**
 * An ISO 8601 date (YYYY-MM-DD, meaning the start or end of that UTC day) or time, as ms since
 * the epoch; undefined when it is not one, or names a day that does not exist (Date.parse would
 * roll 2026-02-30 over to 2026-03-02).
 */
export function parseIsoTime(text: string, dateOnly: 'start' | 'end'): number | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})(.*)$/.exec(text.trim());
  if (m === null) return undefined;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const days = month === 2 && isLeap(year) ? 29 : DAYS_IN_MONTH[month - 1];
  if (days === undefined || day < 1 || day > days) return undefined;
  const ms = m[4] === '' ? Date.parse(`${m[1]}-${m[2]}-${m[3]}T${dateOnly === 'start' ? '00:00:00.000' : '23:59:59.999'}Z`) : Date.parse(text);
  return Number.isNaN(ms) ? undefined : ms;
}

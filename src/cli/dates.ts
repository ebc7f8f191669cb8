/** Every date flag the command line reads (--as-of, --since, --until, --finished-at) goes through here. */
import { parseIsoTime } from '../time.js';
import { UserError } from './context.js';

/**
 * A date flag's value as ms since the epoch.
 * @throws UserError naming the flag
 */
export function dateFlag(flag: string, value: unknown, dateOnly: 'start' | 'end'): number {
  const ms = parseIsoTime(String(value), dateOnly);
  if (ms === undefined) throw new UserError(`${flag}: not a date (YYYY-MM-DD) or ISO 8601 time, or no such day: ${JSON.stringify(String(value))}`);
  return ms;
}

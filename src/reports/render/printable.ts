import { BIDI_FORMATTING } from '../../bandit/index.js';

/**
 * Text for a terminal. Ids, failure reasons, descriptions and decision reasons come from callers
 * (an agent's output, a dispatcher's record), and a terminal acts on what it is sent: ESC starts
 * sequences that recolour, hide or rewrite the screen, set the window title or the clipboard (OSC
 * 52), and make links (OSC 8); `\r` lets a line overwrite itself; C1 controls are the same
 * sequences in one byte; bidirectional overrides and isolates reorder what follows them on the
 * line ("Trojan Source"). Each is shown as its escape instead (`\x1b`, `\u202e`), so the text reads
 * as it was sent; tabs and newlines, which tables and Markdown are made of, stay.
 */
const UNPRINTABLE = new RegExp(`[\\u0000-\\u0008\\u000b-\\u001f\\u007f-\\u009f${BIDI_FORMATTING}]`, 'g');

const escape = (c: string): string => {
  const cp = c.charCodeAt(0);
  return cp <= 0xff ? `\\x${cp.toString(16).padStart(2, '0')}` : `\\u${cp.toString(16).padStart(4, '0')}`;
};

/** `text` with every control character but tab and newline, and every bidirectional formatting character, written as its escape. */
export const printable = (text: string): string => text.replace(UNPRINTABLE, escape);

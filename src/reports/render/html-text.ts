/**
 * Text into HTML, for the reports and the dashboard alike. Reasons, remediations, names and ids come
 * from callers; a bidirectional formatting character in one (U+202E) reorders what the reader sees
 * ("Trojan Source"), and right-to-left letters reorder the words beside them.
 */
import { escapeXml } from '../../charts/index.js';
import { inlineParts, type Inline } from './doc.js';
import { printable } from './printable.js';

/** `text` as HTML character data: controls and bidirectional formatting characters as their escapes (`\u202e`, as a terminal shows them), then escaped once for HTML. */
export const htmlText = (text: string): string => escapeXml(printable(text));

/** Text from a caller as HTML, isolated (`<bdi>`) so that what it holds stays inside it. */
export const isolatedHtml = (text: string): string => `<bdi>${htmlText(text)}</bdi>`;

/** A document's inline as HTML: its own words as text, quoted text isolated. */
export const inlineHtml = (text: Inline): string => inlineParts(text).map((p) => (typeof p === 'string' ? htmlText(p) : isolatedHtml(p.quoted))).join('');

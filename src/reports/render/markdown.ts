/** Markdown renderer: GitHub-flavoured tables; charts become a line saying the HTML has them. */
import { plain, type Block, type Doc, type Inline } from './doc.js';
import { printable } from './printable.js';

/**
 * Text as Markdown shows it. Ids and failure signatures come from the log: a `<` would open raw
 * HTML (an id `<img src=x onerror=…>` is markup in a renderer that passes HTML through), and the
 * signatures' own placeholders (`<n>`, `<path>`) read as unknown tags that GitHub drops. A
 * backslash before a `<` that could open a tag, a comment or an autolink (a letter, `/`, `!` or
 * `?` follows) makes it a literal character in CommonMark; `p<0.001` stays as it is.
 */
const text = (t: Inline) => plain(t).replace(/<(?=[A-Za-z/!?])/g, '\\<');
const cell = (t: Inline) => text(t).replace(/\|/g, '\\|').replace(/\n/g, ' ');

function block(b: Block): string {
  switch (b.kind) {
    case 'heading':
      return `${'#'.repeat(b.level)} ${text(b.text)}`;
    case 'para':
      return text(b.text);
    case 'list':
      return b.items.length === 0 ? '_none_' : b.items.map((i) => `- ${text(i)}`).join('\n');
    case 'table': {
      if (b.rows.length === 0) return '_none_';
      const align = b.headers.map((_, i) => (b.numeric?.[i] ? '---:' : '---'));
      return [b.headers, align, ...b.rows].map((r, i) => `| ${(i === 1 ? r : r.map(cell)).join(' | ')} |`).join('\n');
    }
    case 'chart':
      return `_Chart "${text(b.chart.title)}": see the HTML report._`;
  }
}

/** The document as Markdown, ending with one newline; read in a terminal as often as not, so printable(). */
export function renderMarkdown(doc: Doc): string {
  return printable([`# ${text(doc.title)}`, text(doc.subtitle), ...doc.blocks.map(block)].join('\n\n') + '\n');
}

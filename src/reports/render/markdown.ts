/** Markdown renderer: GitHub-flavoured tables; charts become a line saying the HTML has them. */
import type { Block, Doc } from './doc.js';
import { printable } from './printable.js';

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

function block(b: Block): string {
  switch (b.kind) {
    case 'heading':
      return `${'#'.repeat(b.level)} ${b.text}`;
    case 'para':
      return b.text;
    case 'list':
      return b.items.length === 0 ? '_none_' : b.items.map((i) => `- ${i}`).join('\n');
    case 'table': {
      if (b.rows.length === 0) return '_none_';
      const align = b.headers.map((_, i) => (b.numeric?.[i] ? '---:' : '---'));
      return [b.headers, align, ...b.rows].map((r, i) => `| ${(i === 1 ? r : r.map(cell)).join(' | ')} |`).join('\n');
    }
    case 'chart':
      return `_Chart "${b.chart.title}": see the HTML report._`;
  }
}

/** The document as Markdown, ending with one newline; read in a terminal as often as not, so printable(). */
export function renderMarkdown(doc: Doc): string {
  return printable([`# ${doc.title}`, doc.subtitle, ...doc.blocks.map(block)].join('\n\n') + '\n');
}

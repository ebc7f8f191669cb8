/**
 * HTML renderer: one self-contained page (inline CSS and SVG charts, no scripts, no external links).
 * Every text passes through htmlText() (controls and bidirectional formatting characters shown as
 * their escapes, then HTML-escaped once); text a report quotes is isolated in <bdi>.
 */
import type { Block, Doc } from './doc.js';
import { htmlText, inlineHtml } from './html-text.js';
import { renderChart } from './svg.js';

const CSS = `
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem auto;max-width:1320px;padding:0 1rem;color:#1b1b1b;line-height:1.45}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{margin-top:2rem;border-bottom:1px solid #ddd;padding-bottom:.2rem}
.subtitle{color:#555;margin-top:0}
table{border-collapse:collapse;margin:.6rem 0;font-size:.9rem}th,td{border:1px solid #ddd;padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:#f4f4f4}td.num{text-align:right;font-variant-numeric:tabular-nums}
.chart{display:block;margin:.8rem 0;max-width:100%;height:auto}figure{margin:1rem 0}
.none{color:#777;font-style:italic}
`.trim();

function block(b: Block, charts: ReadonlyMap<Block, string>): string {
  switch (b.kind) {
    case 'heading':
      return `<h${b.level}>${inlineHtml(b.text)}</h${b.level}>`;
    case 'para':
      return `<p>${inlineHtml(b.text)}</p>`;
    case 'list':
      return b.items.length === 0 ? '<p class="none">none</p>' : `<ul>${b.items.map((i) => `<li>${inlineHtml(i)}</li>`).join('')}</ul>`;
    case 'table': {
      if (b.rows.length === 0) return '<p class="none">none</p>';
      const head = `<tr>${b.headers.map((h) => `<th>${htmlText(h)}</th>`).join('')}</tr>`;
      const rows = b.rows.map((r) => `<tr>${r.map((c, i) => `<td${b.numeric?.[i] ? ' class="num"' : ''}>${inlineHtml(c)}</td>`).join('')}</tr>`);
      return `<table><thead>${head}</thead><tbody>\n${rows.join('\n')}\n</tbody></table>`;
    }
    case 'chart':
      return `<figure>${charts.get(b) ?? ''}</figure>`;
  }
}

/** Blocks as HTML elements, for a page that has its own frame (the dashboard shows report sections so). */
export async function renderBlocksHtml(blocks: readonly Block[]): Promise<string> {
  // Charts one after another: the SVG renderer's id counters are per process.
  const charts = new Map<Block, string>();
  for (const b of blocks) if (b.kind === 'chart') charts.set(b, await renderChart(b.chart));
  return blocks.map((b) => block(b, charts)).join('\n');
}

/** The document as a complete HTML page, ending with one newline. */
export async function renderHtml(doc: Doc): Promise<string> {
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${htmlText(doc.title)}</title>`,
    `<style>${CSS}</style>`,
    '</head>',
    '<body>',
    `<h1>${htmlText(doc.title)}</h1>`,
    `<p class="subtitle">${htmlText(doc.subtitle)}</p>`,
    await renderBlocksHtml(doc.blocks),
    '</body>',
    '</html>',
  ].join('\n') + '\n';
}

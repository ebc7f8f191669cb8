/**
 * Static assets: the page script and style sheet (small, kept here so the package needs no build
 * step), and the vega, vega-lite and vega-embed browser builds served from node_modules.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);

/** The browser build of a package: its main entry's folder holds the minified UMD bundle. */
function bundle(pkg: string, file: string): string {
  return readFileSync(join(dirname(require.resolve(pkg)), file), 'utf8');
}

/** Finds every chart placeholder and draws its spec with vega-embed (SVG, tooltips on). */
const PAGE_SCRIPT = `'use strict';
document.addEventListener('DOMContentLoaded', function () {
  var figures = document.querySelectorAll('figure.vl');
  var pending = [];
  figures.forEach(function (fig) {
    var spec = JSON.parse(document.getElementById(fig.dataset.spec).textContent);
    var target = fig.querySelector('.vl-target');
    pending.push(vegaEmbed(target, spec, { renderer: 'svg', actions: false, tooltip: { theme: 'light' } }).then(function () {
      fig.classList.add('drawn');
    }, function (err) {
      fig.classList.add('failed');
      target.textContent = 'chart failed: ' + err.message;
      console.error(err);
    }));
  });
  Promise.all(pending).then(function () { document.body.dataset.charts = 'drawn'; });
});
`;

const STYLE = `
*{box-sizing:border-box}
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1b1b1b;line-height:1.45;font-size:15px;background:#fafafa}
header{display:flex;align-items:center;gap:2rem;padding:.6rem 1.5rem;background:#102a43;color:#fff}
header h1{font-size:1.3rem;margin:0}
nav a{color:#d9e2ec;text-decoration:none;margin-right:1.1rem;font-size:.95rem}
nav a[aria-current=page]{color:#fff;font-weight:600;border-bottom:2px solid #fff}
main{max-width:1360px;margin:0 auto;padding:1rem 1.5rem 3rem}
h2{margin-top:1.8rem;border-bottom:1px solid #ddd;padding-bottom:.2rem}
.view-title{margin-top:.4rem}
.subtitle,.note,.sub,.why{color:#555}
.subtitle{margin-top:0}
.cards{display:flex;flex-wrap:wrap;gap:1rem;margin:1rem 0}
.card{background:#fff;border:1px solid #ddd;border-radius:6px;padding:.8rem 1rem;min-width:300px;flex:1}
.card.wide{flex-basis:100%}
.card-title{font-weight:600}
.big{font-size:2rem;font-weight:700;font-variant-numeric:tabular-nums}
table{border-collapse:collapse;margin:.8rem 0;font-size:.92rem;background:#fff}
th,td{border:1px solid #ddd;padding:.3rem .55rem;text-align:left;vertical-align:top}
th{background:#f0f4f8}
td.num{text-align:right;font-variant-numeric:tabular-nums}
.nb{white-space:nowrap}
code.id{white-space:nowrap}
code.id.long{white-space:normal;overflow-wrap:anywhere}
figure.vl{margin:1rem 0;background:#fff;border:1px solid #e3e3e3;border-radius:6px;padding:.6rem;overflow-x:auto}
figcaption{color:#555;font-size:.85rem}
.none{color:#777;font-style:italic}
.changes li.regressed{color:#8a1020}.changes li.improved{color:#0b6b3a}
.status{padding:0 .35rem;border-radius:3px;font-size:.85rem;background:#e3e8ee}
.status.open{background:#fff3c4}.status.accepted,.status.active{background:#d6f5e3}.status.rejected,.status.retired{background:#f5d6d9}.status.candidate{background:#dbe9ff}
form.act{display:flex;flex-wrap:wrap;gap:.3rem;align-items:center;margin:.2rem 0}
form.act input{width:8.5rem;font-size:.85rem}
form.act.narrow{max-width:10rem}
button{cursor:pointer;padding:.2rem .6rem}
button.reject{background:#fbeaea}
.flash{padding:.5rem .8rem;background:#d6f5e3;border-radius:4px}
.flash.error{background:#f5d6d9}
ul.tree{font-size:.95rem}
code{font-size:.88rem}
`.trim();

export interface Asset {
  readonly type: string;
  readonly body: string;
}

let cached: Map<string, Asset> | undefined;

/** Every asset by file name, read once. */
export function assets(): ReadonlyMap<string, Asset> {
  cached ??= new Map<string, Asset>([
    ['dashboard.js', { type: 'text/javascript; charset=utf-8', body: PAGE_SCRIPT }],
    ['dashboard.css', { type: 'text/css; charset=utf-8', body: STYLE }],
    ['vega.min.js', { type: 'text/javascript; charset=utf-8', body: bundle('vega', 'vega.min.js') }],
    ['vega-lite.min.js', { type: 'text/javascript; charset=utf-8', body: bundle('vega-lite', 'vega-lite.min.js') }],
    ['vega-embed.min.js', { type: 'text/javascript; charset=utf-8', body: bundle('vega-embed', 'vega-embed.min.js') }],
  ]);
  return cached;
}

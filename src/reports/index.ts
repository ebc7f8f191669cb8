/** Learning analytics for people. Pure: typed rows and an as-of date in, report text out. */
import { failuresDoc, outcomesDoc, scoresDoc, trendDoc, weeklyDoc } from './documents.js';
import type { OutcomesReport } from './outcomes.js';
import type { FailuresReport } from './failures.js';
import type { Doc } from './render/doc.js';
import { renderBlocksHtml, renderHtml } from './render/html.js';
import { renderJson } from './render/json.js';
import { renderMarkdown } from './render/markdown.js';
import type { ScoresReport } from './scores.js';
import type { TrendReport } from './trend.js';
import type { WeeklyReport } from './weekly.js';

export * from './rows.js';
export * from './metrics.js';
export * from './tasks.js';
export * from './stats.js';
export * from './scores.js';
export * from './changepoint.js';
export * from './trend.js';
export * from './failures.js';
export * from './weekly.js';
export * from './repeats.js';
export * from './outcomes.js';
export * from './refinements.js';
export { renderBlocksHtml, renderHtml, renderJson, renderMarkdown };
export { changeText, scoreboardBlocks, sparkline } from './documents.js';
export type { Doc };
export { fmt } from './render/doc.js';
export { printable } from './render/printable.js';
export { htmlText, inlineHtml, isolatedHtml } from './render/html-text.js';

export type ReportModel = ScoresReport | TrendReport | FailuresReport | WeeklyReport | OutcomesReport;
export type ReportFormat = 'md' | 'json' | 'html';
export const REPORT_FORMATS: readonly ReportFormat[] = ['md', 'json', 'html'];

/** The document of a report model. */
export function reportDoc(model: ReportModel): Doc {
  switch (model.kind) {
    case 'scores':
      return scoresDoc(model);
    case 'trend':
      return trendDoc(model);
    case 'failures':
      return failuresDoc(model);
    case 'weekly':
      return weeklyDoc(model);
    case 'outcomes':
      return outcomesDoc(model);
  }
}

/** A report in one format: byte-identical for the same model. */
export async function renderReport(model: ReportModel, format: ReportFormat): Promise<string> {
  if (format === 'json') return renderJson(model);
  const doc = reportDoc(model);
  return format === 'md' ? renderMarkdown(doc) : renderHtml(doc);
}

/**
 * Issue 14's designed fixture, generated from a seed: 10 weeks of runs where bug-fix@v1 keeps
 * failing with the same "checks failed: tests" pattern, until at the start of week 5 a refinement
 * (bug-fix@v1#1) is accepted and bug-fix@v2 takes its traffic: it passes more often, is retried
 * less, and rarely fails that way. docs@v1 runs unchanged throughout. With `refined: false` nothing
 * changes: bug-fix@v1 runs all ten weeks and no refinement is accepted.
 */
import { createRng } from '../../src/bandit/index.js';
import type { RefinementRow, RunRow, TemplateRow, TimedDecision } from '../../src/reports/index.js';

export const DAY = 86_400_000;
export const START = Date.parse('2026-01-05T00:00:00Z');
export const END = START + 70 * DAY - 1;
export const REFINED_AT = START + 28 * DAY;

/** Forty different failures, so failures other than the recurring one seldom repeat within 14 days. */
const OTHER_FAILURES = Array.from({ length: 40 }, (_, i) => `checks failed: ${['lint', 'types', 'build', 'format', 'deps', 'schema', 'docs', 'migrations'][i % 8]} in ${['api', 'web', 'cli', 'worker', 'db'][Math.floor(i / 8)]} module`);

interface Behaviour {
  readonly pass: number;
  readonly retried: number;
  /** Share of failures that are the recurring "tests" failure. */
  readonly testsFailed: number;
}

const V1: Behaviour = { pass: 0.5, retried: 0.4, testsFailed: 0.8 };
const V2: Behaviour = { pass: 0.8, retried: 0.15, testsFailed: 0.1 };
const DOCS: Behaviour = { pass: 0.7, retried: 0.2, testsFailed: 0 };

export interface OutcomesFixture {
  readonly rows: RunRow[];
  readonly templates: TemplateRow[];
  readonly refinements: RefinementRow[];
  readonly decisions: TimedDecision[];
}

export function designedOutcomes(seed: string, refined = true, perWeek = { bugFix: 30, docs: 10 }): OutcomesFixture {
  const rng = createRng(seed);
  const rows: RunRow[] = [];
  const decisions: TimedDecision[] = [];
  const run = (templateId: string, taskClass: string, b: Behaviour, i: number, atMs: number) => {
    const passed = rng.next() < b.pass;
    const retried = rng.next() < b.retried;
    const reason = passed ? '' : rng.next() < b.testsFailed ? 'checks failed: tests' : OTHER_FAILURES[Math.floor(rng.next() * OTHER_FAILURES.length)]!;
    rows.push({
      runId: `${templateId}-${i}`,
      templateId,
      taskClass,
      repo: taskClass === 'docs' ? 'org/docs' : 'org/app',
      taskId: `${templateId}-task-${i}`,
      attempt: retried ? 2 : 1,
      outcome: passed ? 'pass' : 'fail',
      retries: 0,
      durationSeconds: 300,
      failureReason: reason,
      finishedAtMs: atMs,
      agent: 'claude',
      model: 'sonnet',
    });
    decisions.push({ atMs: atMs - 3_600_000, context: taskClass, candidates: [templateId, 'other@v1'], chosen: templateId, propensity: 0.85, reward: passed ? 1 : 0 });
    // The policy's exploration: other@v1, chosen 15% of the time, passes 40% of its runs.
    if (rng.next() < 0.15 / 0.85) {
      decisions.push({ atMs: atMs - 3_600_001, context: taskClass, candidates: [templateId, 'other@v1'], chosen: 'other@v1', propensity: 0.15, reward: rng.next() < 0.4 ? 1 : 0 });
    }
  };
  let i = 0;
  for (let week = 0; week < 10; week++) {
    for (let k = 0; k < perWeek.bugFix; k++) {
      const atMs = START + week * 7 * DAY + Math.floor(rng.next() * 7 * DAY);
      if (refined && atMs >= REFINED_AT) run('bug-fix@v2', 'bug-fix', V2, i++, atMs);
      else run('bug-fix@v1', 'bug-fix', V1, i++, atMs);
    }
    for (let k = 0; k < perWeek.docs; k++) run('docs@v1', 'docs', DOCS, i++, START + week * 7 * DAY + Math.floor(rng.next() * 7 * DAY));
  }
  rows.sort((a, b) => a.finishedAtMs - b.finishedAtMs || (a.runId < b.runId ? -1 : 1));
  decisions.sort((a, b) => a.atMs - b.atMs);
  const templates: TemplateRow[] = [
    { templateId: 'bug-fix@v1', parentTemplateId: '', status: refined ? 'retired' : 'active' },
    { templateId: 'docs@v1', parentTemplateId: '', status: 'active' },
    ...(refined ? [{ templateId: 'bug-fix@v2', parentTemplateId: 'bug-fix@v1', status: 'active' } as const] : []),
  ];
  const refinements: RefinementRow[] = refined
    ? [
        {
          refinementId: 'bug-fix@v1#1',
          templateId: 'bug-fix@v1',
          status: 'accepted',
          trigger: 'below_threshold',
          summary: 'pass rate 50% and tests keep failing',
          openedAtMs: REFINED_AT - 2 * DAY,
          decidedAtMs: REFINED_AT,
          actor: 'maria',
          reason: 'asks for the failing test to be run before finishing',
          newTemplateId: 'bug-fix@v2',
        },
      ]
    : [];
  return { rows, templates, refinements, decisions };
}

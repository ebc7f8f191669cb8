/**
 * Task-class classifier for task text, used when a run record names no task class.
 *
 * Ordered keyword rules, first match wins, tried sentence by sentence over the first few
 * sentences: a task's opening sentence says what it is, while later ones ("run the tests to check
 * nothing is broken") mention other kinds of work. The order settles the overlaps seen in the
 * labelled prompts: a review of a regression is a review, a fix to a deploy script is a fix, a
 * script that cleans up is a script. Accuracy on the labelled prompts is measured in
 * test/importers/task-class.test.ts.
 */

export const TASK_CLASSES = ['code-review', 'bug-fix', 'script', 'docs', 'refactor', 'feature', 'custom'] as const;
export type TaskClass = (typeof TASK_CLASSES)[number];

/** The rules, in the order they are tried; `custom` is what matches nothing. */
export const TASK_CLASS_RULES: ReadonlyArray<{ readonly taskClass: TaskClass; readonly pattern: RegExp }> = [
  {
    taskClass: 'code-review',
    // "audit trail" and "audit log" are features, not audits.
    pattern: /\b(code review|review(ing)?|audit(?! trail| log)|assess|analy[sz]e\b.*\bfindings?)\b/,
  },
  {
    taskClass: 'bug-fix',
    pattern: /\b(fix(es|ed|ing)?|hotfix|debug|repair|bugs?|crash(es)?|incident|regression|memory leak|vulnerability|investigate why|resolve)\b/,
  },
  {
    taskClass: 'script',
    pattern: /\b(scripts?|automate[sd]?|automation|cron|cli tool|task runner|shell|bash)\b/,
  },
  {
    taskClass: 'docs',
    pattern: /\b(readme|document(ation|ed|s)?|docs?|tutorial|guide|comments|prd|changelog)\b/,
  },
  {
    taskClass: 'refactor',
    pattern: /\b(refactor(ing)?|clean ?up|simplify|reorgani[sz]e|extract|rename|tech debt|modulari[sz]e|readability|deduplicate)\b/,
  },
  {
    taskClass: 'feature',
    pattern: /\b(add|implement|create|build|introduce|allow|enable|support|endpoint|new features?|extend(ing)?|deploy(ment)?)\b/,
  },
];

/** Sentences looked at, from the start of the text. */
const SENTENCES = 3;

/**
 * The task class of a task text.
 * @param text the task's prompt or summary; empty text is `custom`.
 */
export function classifyTaskText(text: string): TaskClass {
  const sentences = text
    .toLowerCase()
    .split(/(?<=[.!?])\s+|\n+/)
    .map((s) => s.trim())
    .filter((s) => s !== '' && !s.startsWith('#'))
    .slice(0, SENTENCES);
  for (const sentence of sentences) {
    for (const rule of TASK_CLASS_RULES) if (rule.pattern.test(sentence)) return rule.taskClass;
  }
  return 'custom';
}

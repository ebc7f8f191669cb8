import { describe, expect, test } from 'vitest';
import { BIDI_FORMATTING, DEFAULT_LIMITS, DEFAULT_POLICY_CONFIG } from '../../src/bandit/index.js';
import { buildReport, evidenceLabels } from '../../src/cli/commands/analytics.js';
import { compose, openStore } from '../../src/compose.js';
import { renderReport, type RemediationRules } from '../../src/reports/index.js';
import { reportData } from '../../src/service/refinement-queue.js';
import { AS_OF } from './fixture-log.js';

// U+202E shows "live" for "evil" and reorders the rest of its line; U+2067 opens an isolate; ESC and
// the one-byte CSI (U+009B) drive terminals; Hebrew letters reorder the words beside them.
const TRICKY = 'tests <failed> \u202eevil\u202c & \u2067x\u2069\u200e\u200f\u061c \u001b[2j\u009b \u05e9\u05dc\u05d5\u05dd';
const SHOWN = 'tests &lt;failed&gt; \\u202eevil\\u202c &amp; \\u2067x\\u2069\\u200e\\u200f\\u061c \\x1b[2j\\x9b \u05e9\u05dc\u05d5\u05dd';
const RULES: RemediationRules = { version: 1, rules: [{ id: 'evil', match: 'evil', action: `act: ${TRICKY}`, rationale: `why: ${TRICKY}` }] };
/** What the page must not hold: the formatting characters, and controls other than tab and newline. */
const RAW = new RegExp(`[\\u0000-\\u0008\\u000b-\\u001f\\u007f-\\u009f${BIDI_FORMATTING}]`);

describe('HTML reports quote free text safely', () => {
  test('show control and bidirectional formatting characters as their escapes, isolated in <bdi>, escaped once; JSON keeps the text', async () => {
    const store = await openStore('memory:', { policy: DEFAULT_POLICY_CONFIG });
    try {
      const app = compose(store, { limits: DEFAULT_LIMITS }, () => AS_OF);
      for (let i = 0; i < 3; i++) {
        await app.learnloop.observe({ runId: `r${i}`, decisionId: '', templateId: 'a@v1', taskClass: 'bug-fix', repo: '', taskId: `t${i}`, attempt: 1, outcome: 'fail', retries: 0, durationSeconds: 1, failureReason: TRICKY, finishedAtMs: AS_OF - 1000 * (i + 1), agent: '', model: '' });
      }
      const data = { ...(await reportData(store)), evidence: await evidenceLabels(app.learnloop) };
      const failures = buildReport('failures', data, AS_OF, RULES);
      const weekly = buildReport('weekly', data, AS_OF, RULES);

      const failuresHtml = await renderReport(failures, 'html');
      expect(failuresHtml).toContain(`<tr><td><bdi>fail: ${SHOWN}</bdi></td>`);
      expect(failuresHtml).toContain(`<td>[<bdi>evil</bdi>] <bdi>act: ${SHOWN}</bdi></td>`);
      expect(failuresHtml).toContain('<td><bdi>a@v1</bdi> (3)</td>');
      const weeklyHtml = await renderReport(weekly, 'html');
      expect(weeklyHtml).toContain(`<td><bdi>why: ${SHOWN}</bdi></td>`);
      for (const html of [failuresHtml, weeklyHtml]) {
        expect(html).not.toMatch(RAW);
        expect(html).not.toMatch(/&amp;(lt|gt|amp);/);
      }

      // --format json is data for programs: the text as it was sent.
      const json = JSON.parse(await renderReport(failures, 'json')) as { patterns: Array<{ signature: string; remediation: { action: string } }> };
      expect(json.patterns[0]!.signature).toBe(`fail: ${TRICKY}`);
      expect(json.patterns[0]!.remediation.action).toBe(`act: ${TRICKY}`);
    } finally {
      await store.close();
    }
  });
});

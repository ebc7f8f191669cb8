import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import { DEFAULT_LIMITS, validateObserveRequest, validateRecommendRequest, validateRefinementDecision, validateTemplateRegistration } from '../../src/bandit/index.js';

const validObserve = {
  runId: 'r1',
  decisionId: '',
  templateId: 't@v1',
  taskClass: 'bug-fix',
  repo: 'org/app',
  taskId: 'bd-1',
  attempt: 1,
  outcome: 'pass',
  retries: 0,
  durationSeconds: 12.5,
  failureReason: '',
  finishedAtMs: 1_700_000_000_000,
  agent: 'claude',
  model: 'sonnet',
};

describe('validation collects every violation and never throws', () => {
  test.prop([fc.dictionary(fc.constantFrom(...Object.keys(validObserve)), fc.anything())])(
    'Observe validation is total',
    (patch) => {
      const out = validateObserveRequest({ ...validObserve, ...patch }, DEFAULT_LIMITS);
      expect(Array.isArray(out)).toBe(true);
    },
  );

  test.prop([fc.anything(), fc.anything(), fc.anything(), fc.anything(), fc.anything()])(
    'Recommend validation is total',
    (taskClass, repo, candidateTemplateIds, topK, requestId) => {
      expect(Array.isArray(validateRecommendRequest({ taskClass, repo, candidateTemplateIds, topK, requestId }, DEFAULT_LIMITS))).toBe(true);
    },
  );

  test('regression: an object whose toString is not a function is described, not thrown on', () => {
    const out = validateRecommendRequest({ taskClass: 0, repo: {}, candidateTemplateIds: [], topK: { toString: 0 }, requestId: {} }, DEFAULT_LIMITS);
    expect(out.map((v) => v.field)).toEqual(['task_class', 'repo', 'request_id', 'top_k']);
  });

  test('a valid observation has no violations', () => {
    expect(validateObserveRequest(validObserve, DEFAULT_LIMITS)).toEqual([]);
    expect(validateObserveRequest({ ...validObserve, templateId: '', decisionId: 'd' }, DEFAULT_LIMITS)).toEqual([]);
  });

  test.each([
    [{ runId: '' }, 'run_id'],
    [{ runId: 7 }, 'run_id'],
    [{ outcome: 'OUTCOME_UNSPECIFIED' }, 'outcome'],
    [{ attempt: -1 }, 'attempt'],
    [{ attempt: 1.5 }, 'attempt'],
    [{ retries: Number.NaN }, 'retries'],
    [{ durationSeconds: Number.NEGATIVE_INFINITY }, 'duration_seconds'],
    [{ durationSeconds: 1.7976931348623157e308 }, 'duration_seconds'],
    [{ durationSeconds: 1_000_000_001 }, 'duration_seconds'],
    [{ finishedAtMs: Number.NaN }, 'finished_at'],
    [{ templateId: '', decisionId: '' }, 'template_id'],
    [{ taskClass: 'a\nb' }, 'task_class'],
    [{ model: 'm'.repeat(257) }, 'model'],
    [{ runId: '   ' }, 'run_id'],
    [{ templateId: '  ' }, 'template_id'],
    [{ templateId: 'bug-fix@v1 ' }, 'template_id'],
    [{ taskClass: ' bug-fix' }, 'task_class'],
    [{ repo: 'org/app\u00a0' }, 'repo'],
    [{ decisionId: ' d' }, 'decision_id'],
  ])('Observe %o names %s', (patch, field) => {
    expect(validateObserveRequest({ ...validObserve, ...patch }, DEFAULT_LIMITS).map((v) => v.field)).toContain(field);
  });

  test('a duration is at most 10^9 s, so no sum of durations in a segment overflows to Infinity', () => {
    expect(validateObserveRequest({ ...validObserve, durationSeconds: 1e9 }, DEFAULT_LIMITS)).toEqual([]);
    expect(validateObserveRequest({ ...validObserve, durationSeconds: 1e300 }, DEFAULT_LIMITS)).toEqual([{ field: 'duration_seconds', description: 'must be at most 1000000000 (about 31 years); got 1e+300' }]);
    // The largest duration, from as many runs as a count can say, still sums to a finite number.
    expect(Number.isFinite(1e9 * Number.MAX_SAFE_INTEGER)).toBe(true);
  });

  test('an id with whitespace at either end is named once, saying which; whitespace inside is fine', () => {
    const described = (patch: object) => validateObserveRequest({ ...validObserve, ...patch }, DEFAULT_LIMITS).map((v) => `${v.field}: ${v.description}`);
    expect(described({ templateId: 'bug-fix@v1 ' })).toEqual(['template_id: must not begin or end with whitespace; got "bug-fix@v1 "']);
    expect(described({ runId: '  ' })).toEqual(['run_id: must not be only whitespace; got "  "']);
    expect(described({ templateId: 'bug fix@v1', model: 'gpt 5' })).toEqual([]);
    const candidates = (ids: string[]) => validateRecommendRequest({ taskClass: '', repo: '', candidateTemplateIds: ids, topK: 0, requestId: '' }, DEFAULT_LIMITS).map((v) => v.field);
    expect(candidates([' '])).toEqual(['candidate_template_ids[0]']);
    expect(candidates(['a@v1', 'b@v1 ', 'c@v1'])).toEqual(['candidate_template_ids[1]']);
    // A comma and a space inside one id is not an edge: the slow path tells.
    expect(candidates(['a, b@v1', 'c@v1'])).toEqual([]);
    expect(validateRefinementDecision({ refinementId: 't@v1#1', actor: '  ', reason: 'r' }, DEFAULT_LIMITS, false)).toEqual([{ field: 'actor', description: 'is required: who decides' }]);
    expect(validateTemplateRegistration({ templateId: ' t@v1', parentTemplateId: 'p@v1 ', description: ' fine ' }, DEFAULT_LIMITS).map((v) => v.field)).toEqual(['template_id', 'parent_template_id']);
  });

  test('an id with a C1 control or a bidirectional override is refused: it drives terminals, or reads as another id', () => {
    const described = (patch: object) => validateObserveRequest({ ...validObserve, ...patch }, DEFAULT_LIMITS).map((v) => `${v.field}: ${v.description}`);
    expect(described({ templateId: '\u202eevil@v1' })).toEqual(['template_id: must not contain control or bidirectional formatting characters']);
    expect(described({ repo: 'acme/\u009b31mapi', taskClass: 'fix\u2066x\u2069' }).map((d) => d.split(':')[0])).toEqual(['task_class', 'repo']);
    // Right-to-left letters are text, not formatting.
    expect(described({ templateId: 'תיקון@v1' })).toEqual([]);
    const candidates = (ids: string[]) => validateRecommendRequest({ taskClass: '', repo: '', candidateTemplateIds: ids, topK: 0, requestId: '' }, DEFAULT_LIMITS).map((v) => v.field);
    expect(candidates(['a@v1', 'b\u202d@v1', 'c\u0085@v1'])).toEqual(['candidate_template_ids[1]', 'candidate_template_ids[2]']);
    expect(validateTemplateRegistration({ templateId: 'x\u200f@v1', parentTemplateId: '', description: 'a \u202e description is free text' }, DEFAULT_LIMITS).map((v) => v.field)).toEqual(['template_id']);
  });

  test('template registration needs an id and a different parent', () => {
    const fields = (r: object) => validateTemplateRegistration({ templateId: 'a', parentTemplateId: '', description: '', ...r }, DEFAULT_LIMITS).map((v) => v.field);
    expect(fields({})).toEqual([]);
    expect(fields({ templateId: '' })).toContain('template_id');
    expect(fields({ parentTemplateId: 'a' })).toContain('parent_template_id');
  });
});

describe('limits at the edge, in multi-byte text', () => {
  const max = DEFAULT_LIMITS.maxIdLength;
  // Limits count characters (code points), and at most 3 UTF-8 bytes a character: '€' is 1 character
  // and 3 bytes, '😀' 1 character (2 UTF-16 units) and 4 bytes.
  test.each(['x', 'é', '€'])('an id of %s × limit passes, limit + 1 is named', (ch) => {
    expect(validateObserveRequest({ ...validObserve, runId: ch.repeat(max) }, DEFAULT_LIMITS)).toEqual([]);
    expect(validateObserveRequest({ ...validObserve, runId: ch.repeat(max + 1) }, DEFAULT_LIMITS).map((v) => v.field)).toEqual(['run_id']);
  });

  test('a character outside the BMP counts once: 150 × 👍 passes; 4-byte characters stop at the byte limit', () => {
    const observe = (id: string) => validateObserveRequest({ ...validObserve, templateId: id, taskClass: id, repo: id }, DEFAULT_LIMITS);
    expect(observe('👍'.repeat(150))).toEqual([]);
    expect(observe('👍'.repeat((max * 3) / 4))).toEqual([]); // 192 characters, 768 bytes
    expect(observe('€'.repeat(max - 1) + 'x')).toEqual([]);
    const over = observe('👍'.repeat(max));
    expect(over.map((v) => v.field)).toEqual(['template_id', 'task_class', 'repo']);
    expect(over[0]!.description).toBe(`must be at most ${max} characters and ${max * 3} bytes in UTF-8; got ${max} characters, ${max * 4} bytes`);
    expect(observe('€'.repeat(max - 1) + '😀').map((v) => v.description)[0]).toBe(
      `must be at most ${max} characters and ${max * 3} bytes in UTF-8; got ${max} characters, ${max * 3 + 1} bytes`,
    );
    expect(validateRecommendRequest({ taskClass: '', repo: '', candidateTemplateIds: ['a', '👍'.repeat(150), '👍'.repeat(193)], topK: 0, requestId: '' }, DEFAULT_LIMITS).map((v) => v.field)).toEqual([
      'candidate_template_ids[2]',
    ]);
  });

  // Any mix of 1- to 4-byte characters around a limit: accepted exactly when within both counts, which the
  // test takes from the platform (code points by spreading, bytes by TextEncoder), not from the validator.
  const CHARS = ['a', 'é', '€', '中', '😀', '𝄞', '👍'];
  test.prop([fc.integer({ min: 8, max: 24 }), fc.array(fc.constantFrom(...CHARS), { minLength: 1, maxLength: 60 }), fc.constantFrom('runId', 'templateId', 'failureReason')])(
    'a string is accepted exactly when it has at most limit characters and 3 × limit UTF-8 bytes',
    (limit, chars, key) => {
      const s = chars.join('');
      const within = [...s].length <= limit && new TextEncoder().encode(s).length <= 3 * limit;
      const limits = { ...DEFAULT_LIMITS, maxIdLength: limit, maxTextLength: limit };
      // At least 8: the other fields of validObserve ('bug-fix', 'org/app') must stay within it.
      const out = validateObserveRequest({ ...validObserve, [key]: s }, limits);
      expect(out).toEqual(within ? [] : [expect.objectContaining({ description: expect.stringMatching(/^must be at most \d+ characters and \d+ bytes in UTF-8; got/) })]);
    },
  );

  test('a lone surrogate is refused (it has no UTF-8 form), a paired one is fine', () => {
    expect(validateObserveRequest({ ...validObserve, runId: 'u-\uD800' }, DEFAULT_LIMITS).map((v) => v.description)).toEqual([
      'must be valid Unicode (it holds a lone surrogate)',
    ]);
    expect(validateObserveRequest({ ...validObserve, runId: 'u-😀' }, DEFAULT_LIMITS)).toEqual([]);
    expect(validateRecommendRequest({ taskClass: '', repo: '', candidateTemplateIds: ['a', '\uDC00b'], topK: 0, requestId: '' }, DEFAULT_LIMITS).map((v) => v.field)).toEqual([
      'candidate_template_ids[1]',
    ]);
  });
});

describe('finished_at in the future', () => {
  const now = 1_800_000_000_000;
  const skew = DEFAULT_LIMITS.maxFutureSkewMs;
  test('up to the configured skew past the clock is accepted; one ms more is named', () => {
    expect(validateObserveRequest({ ...validObserve, finishedAtMs: now + skew }, DEFAULT_LIMITS, now)).toEqual([]);
    const out = validateObserveRequest({ ...validObserve, finishedAtMs: now + skew + 1 }, DEFAULT_LIMITS, now);
    expect(out.map((v) => v.field)).toEqual(['finished_at']);
    expect(out[0]!.description).toBe(`is ${skew + 1} ms past the server's clock; at most ${skew} ms is allowed (--max-future-skew-ms)`);
  });

  test('the skew is configurable; without a clock only the Timestamp range is checked', () => {
    expect(validateObserveRequest({ ...validObserve, finishedAtMs: now + 10 }, { ...DEFAULT_LIMITS, maxFutureSkewMs: 0 }, now).map((v) => v.field)).toEqual(['finished_at']);
    expect(validateObserveRequest({ ...validObserve, finishedAtMs: 253402300799000 }, DEFAULT_LIMITS)).toEqual([]);
  });
});

describe('refinement decisions', () => {
  const ok = { refinementId: 't@v1#1', actor: 'ana', reason: 'fixes the import error', newTemplateId: 't@v2', description: 'adds a step' };
  const fields = (patch: object, accept = true) => validateRefinementDecision({ ...ok, ...patch }, DEFAULT_LIMITS, accept).map((v) => v.field);

  test('a valid decision has no violations', () => {
    expect(fields({})).toEqual([]);
    expect(fields({ newTemplateId: '' }, false)).toEqual([]);
  });

  test.each([
    [{ refinementId: 'x'.repeat(5000) }, 'refinement_id'],
    [{ refinementId: ' ' }, 'refinement_id'],
    [{ actor: 'a'.repeat(DEFAULT_LIMITS.maxIdLength + 1) }, 'actor'],
    [{ actor: '' }, 'actor'],
    [{ actor: 'a\tb' }, 'actor'],
    [{ reason: 'r'.repeat(1 << 20) }, 'reason'],
    [{ reason: '  ' }, 'reason'],
    [{ description: 'd'.repeat(DEFAULT_LIMITS.maxTextLength + 1) }, 'description'],
    [{ newTemplateId: '' }, 'new_template_id'],
    [{ newTemplateId: 'n'.repeat(DEFAULT_LIMITS.maxIdLength + 1) }, 'new_template_id'],
    [{ refinementId: 7 }, 'refinement_id'],
  ])('%o names %s', (patch, field) => {
    expect(fields(patch)).toContain(field);
  });

  test('a refinement id may be a template id at the limit plus "#<n>"', () => {
    expect(fields({ refinementId: `${'€'.repeat(DEFAULT_LIMITS.maxIdLength)}#123456789` })).toEqual([]);
  });
});

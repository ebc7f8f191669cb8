import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import { DEFAULT_LIMITS, validateObserveRequest, validateRecommendRequest, validateTemplateRegistration } from '../../src/bandit/index.js';

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
    [{ finishedAtMs: Number.NaN }, 'finished_at'],
    [{ templateId: '', decisionId: '' }, 'template_id'],
    [{ taskClass: 'a\nb' }, 'task_class'],
    [{ model: 'm'.repeat(257) }, 'model'],
  ])('Observe %o names %s', (patch, field) => {
    expect(validateObserveRequest({ ...validObserve, ...patch }, DEFAULT_LIMITS).map((v) => v.field)).toContain(field);
  });

  test('template registration needs an id and a different parent', () => {
    const fields = (r: object) => validateTemplateRegistration({ templateId: 'a', parentTemplateId: '', description: '', ...r }, DEFAULT_LIMITS).map((v) => v.field);
    expect(fields({})).toEqual([]);
    expect(fields({ templateId: '' })).toContain('template_id');
    expect(fields({ parentTemplateId: 'a' })).toContain('parent_template_id');
  });
});

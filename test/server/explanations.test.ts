import { describe, expect, test } from 'vitest';
import { DEFAULT_LIMITS, DEFAULT_POLICY_CONFIG } from '../../src/bandit/index.js';
import { EvidenceLevel } from '../../src/gen/learnloop/v1/learnloop.js';
import { decisionToProto } from '../../src/server/mapping.js';
import { LearnLoop } from '../../src/service/learnloop.js';
import { MemoryStore } from '../../src/store/memory-store.js';

/** Issue 9: each ranked template says how many runs of its own it has here and what it borrowed from where. */
describe('explanations separate own and borrowed evidence', () => {
  async function world() {
    const ll = new LearnLoop({ store: new MemoryStore({ ...DEFAULT_POLICY_CONFIG, summarySamples: 200 }), limits: DEFAULT_LIMITS, now: () => 1_800_000_000_000 });
    let run = 0;
    const feed = async (templateId: string, taskClass: string, repo: string, passes: number, fails: number) => {
      for (let i = 0; i < passes + fails; i++) {
        await ll.observe({
          runId: `r${run++}`, decisionId: '', templateId, taskClass, repo, taskId: '', attempt: 1, outcome: i < passes ? 'pass' : 'fail',
          retries: 0, durationSeconds: 1, failureReason: '', finishedAtMs: undefined, agent: '', model: '',
        });
      }
    };
    for (const t of ['a@v1', 'b@v1']) {
      await feed(t, 'bug', 'org/x', 6, 2); // 8 runs of its own in (bug, org/x)
      await feed(t, 'bug', 'org/y', 20, 20); // 40 in another repository of the class
      await feed(t, 'bug', 'org/z', 12, 18);
      await feed(t, 'docs', 'org/x', 30, 30); // 60 in another task class
    }
    return ll;
  }

  test('a template with 8 runs of its own says 8, and what it borrowed from the task class, other classes and the prior', async () => {
    const ll = await world();
    const reply = await ll.recommend({ taskClass: 'bug', repo: 'org/x', candidateTemplateIds: ['a@v1', 'b@v1'], topK: 0, requestId: '' });
    const wire = decisionToProto(reply);
    for (const r of wire.ranking) {
      expect(r.ownRuns).toBe(8);
      expect(r.ownLevel).toBe(EvidenceLevel.EVIDENCE_LEVEL_REPO_TASK_CLASS);
      expect(r.borrowed.map((b) => b.source)).toEqual(['task class', 'global', 'prior']);
      expect(r.borrowed[0]!.runs).toBe(70);
      expect(r.borrowed[1]!.runs).toBe(60);
      // Borrowed runs are discounted for how much repositories (task classes) differ, never inflated.
      for (const b of r.borrowed.slice(0, 2)) {
        expect(b.pseudoRuns).toBeGreaterThan(0);
        expect(b.pseudoRuns).toBeLessThanOrEqual(b.runs + 1e-9);
      }
      // Own and borrowed evidence make up the whole posterior.
      const total = r.ownPseudoRuns + r.borrowed.reduce((s, b) => s + b.pseudoRuns, 0);
      expect(total).toBeCloseTo(r.posterior!.alpha + r.posterior!.beta, 9);
    }
    expect(reply.decision.rationale).toMatch(/from 8 runs of its own in this task class and repository, plus borrowed evidence worth [\d.]+ runs? from 70 runs in other repositories of this task class, [\d.]+ runs? from 60 runs in other task classes, [\d.]+ runs? from the prior\./);
  });

  test('with enough candidates for a fitted prior (its strength integrated out), own runs are still the count fed, and what they count for is apart', async () => {
    const ll = new LearnLoop({ store: new MemoryStore({ ...DEFAULT_POLICY_CONFIG, summarySamples: 200 }), limits: DEFAULT_LIMITS, now: () => 1_800_000_000_000 });
    const ids = ['m@a', 'm@b', 'm@c', 'm@d'];
    let run = 0;
    // 20 runs each, rates close together: the base prior's strength is uncertain, so the posterior is a mixture.
    for (const [k, templateId] of ids.entries()) {
      for (let i = 0; i < 20; i++) {
        await ll.observe({
          runId: `r${run++}`, decisionId: '', templateId, taskClass: 'bug-fix', repo: 'acme/api', taskId: '', attempt: 1, outcome: i < 10 + k ? 'pass' : 'fail',
          retries: 0, durationSeconds: 1, failureReason: '', finishedAtMs: undefined, agent: '', model: '',
        });
      }
    }
    const reply = await ll.recommend({ taskClass: 'bug-fix', repo: 'acme/api', candidateTemplateIds: ids, topK: 0, requestId: '' });
    const wire = decisionToProto(reply);
    for (const r of wire.ranking) {
      expect(r.ownRuns).toBe(20);
      expect(r.ownLevel).toBe(EvidenceLevel.EVIDENCE_LEVEL_REPO_TASK_CLASS);
      expect(r.ownPseudoRuns).toBeGreaterThan(0);
      expect(r.ownPseudoRuns).toBeLessThanOrEqual(20 + 1e-9);
      const total = r.ownPseudoRuns + r.borrowed.reduce((s, b) => s + b.pseudoRuns, 0);
      expect(total).toBeCloseTo(r.posterior!.alpha + r.posterior!.beta, 9);
    }
    expect(wire.ranking.some((r) => r.ownPseudoRuns < 19)).toBe(true); // the mixture did widen them
    expect(reply.decision.rationale).toMatch(/from 20 runs of its own in this task class and repository/);
  });

  test('in a task class with no repository named, its own runs are the task class\'s; a new version borrows from its parent', async () => {
    const ll = await world();
    await ll.registerTemplate({ templateId: 'a@v2', parentTemplateId: 'a@v1', status: 'active', description: '' });
    const reply = await ll.recommend({ taskClass: 'bug', repo: '', candidateTemplateIds: ['a@v1', 'a@v2'], topK: 0, requestId: '' });
    const wire = decisionToProto(reply);
    const v1 = wire.ranking.find((r) => r.templateId === 'a@v1')!;
    const v2 = wire.ranking.find((r) => r.templateId === 'a@v2')!;
    expect(v1.ownRuns).toBe(78);
    expect(v1.ownLevel).toBe(EvidenceLevel.EVIDENCE_LEVEL_TASK_CLASS);
    expect(v1.borrowed.map((b) => b.source)).toEqual(['global', 'prior']);
    expect(v2.ownRuns).toBe(0);
    expect(v2.borrowed.map((b) => b.source)).toEqual(['parent']);
    expect(v2.borrowed[0]!.pseudoRuns).toBeGreaterThan(0);
  });

  test('a decision logged before the fields existed maps to zeros and no sources', () => {
    const wire = decisionToProto({
      type: 'decision', candidates: ['a'], requestId: '', seq: 1, atMs: 0,
      decision: {
        decisionId: 'd' as never, context: { taskClass: '', repo: '' }, chosen: 'a' as never, propensity: 1, policyVersion: 'x', rationale: '',
        lift: { chosenMean: 0.5, uniformMean: 0.5, absolute: 0, relative: 0, ciLow: 0, ciHigh: 0 },
        ranking: [{ armId: 'a' as never, probBest: 1, propensity: 1, posterior: { mean: 0.5, ciLow: 0, ciHigh: 1, alpha: 1, beta: 1, observations: 0, evidenceLevel: 'prior' } }],
      },
    } as never);
    expect(wire.ranking[0]).toMatchObject({ ownRuns: 0, ownPseudoRuns: 0, ownLevel: EvidenceLevel.EVIDENCE_LEVEL_UNSPECIFIED, borrowed: [] });
  });
});

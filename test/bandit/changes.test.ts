import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import {
  armEvidenceOf,
  asArmId,
  asDecisionId,
  DEFAULT_POLICY_CONFIG,
  project,
  type DerivedReader,
  type LoggedEvent,
  type PolicyConfig,
  type StatsKey,
  type StatsRecord,
} from '../../src/bandit/index.js';
import { changePoints, hazardWeights } from '../../src/bandit/changes.js';
import type { WindowCounts } from '../../src/bandit/types.js';

/** A level's sums since the change point `f`: 0 where the level does not keep it (it began after the level's last run). */
function windowEvidence(w: WindowCounts | undefined, f: number) {
  const k = w?.froms.indexOf(f) ?? -1;
  return k < 0 ? { trials: 0, reward: 0, passes: 0 } : { trials: w!.trials[k]!, reward: w!.reward[k]!, passes: w!.passes[k]! };
}

const POLICY: PolicyConfig = { ...DEFAULT_POLICY_CONFIG, decay: { halfLife: 5, unit: 'runs' } };

/** Day-based decay under /11: a half-life of a day, runs an hour apart unless told otherwise. */
const DAYS: PolicyConfig = { ...DEFAULT_POLICY_CONFIG, decay: { halfLife: 1, unit: 'days' } };
const HOUR = 3_600_000;

/** A memory of derived records that applies project() to observations of template 't', each `stepMs` after the last unless given a finish time. */
function history(policy: PolicyConfig, stepMs = 1) {
  const stats = new Map<string, StatsRecord>();
  const sid = (k: StatsKey) => k.join('\u0000');
  const reader: DerivedReader = { template: () => undefined, stats: (k) => stats.get(sid(k)), refinement: () => undefined };
  let seq = 0;
  const observe = (taskClass: string, repo: string, outcome: 'pass' | 'fail' | 'partial' | 'infra_error', finishedAtMs = (seq + 1) * stepMs) => {
    seq++;
    const facts = { taskId: `t${seq}`, attempt: 1, outcome, retries: 0, durationSeconds: 0, failureReason: '', agent: '', model: '' } as const;
    const event = {
      type: 'observation',
      seq,
      atMs: seq,
      content: { ...facts, runId: `r${seq}`, decisionId: '', templateId: 't', taskClass, repo, finishedAtMs },
      observation: { ...facts, runId: `r${seq}`, decisionId: asDecisionId(''), armId: asArmId('t'), context: { taskClass, repo }, finishedAtMs },
    } as LoggedEvent;
    for (const c of project(event, reader, policy)) if (c.kind === 'stats') stats.set(sid(c.key), c.value);
  };
  return { observe, arm: (taskClass: string, repo: string) => armEvidenceOf('t', { taskClass, repo }, reader, policy) };
}

describe('change points (policy /8; day-based decay /11)', () => {
  const runs = fc.array(fc.tuple(fc.constantFrom('a', 'b'), fc.constantFrom('x', 'y'), fc.constantFrom('pass', 'fail', 'partial', 'infra_error') as fc.Arbitrary<'pass' | 'fail' | 'partial' | 'infra_error'>), {
    minLength: 1,
    maxLength: 60,
  });

  test.prop([runs, fc.constantFrom(POLICY, DAYS)])("under every kept change point, each level holds exactly its runs since it: global minus a class is the other class's (runs or days)", (xs, policy) => {
    const h = history(policy, policy === DAYS ? HOUR : 1);
    for (const [tc, repo, outcome] of xs) h.observe(tc, repo, outcome);
    const arm = h.arm('a', 'x');
    const changes = arm.evidence.changes;
    const learnable = xs.filter(([, , o]) => o !== 'infra_error');
    if (learnable.length === 0) {
      expect(changes).toBeUndefined();
      return;
    }
    expect(changes!.record.runs).toBe(learnable.length);
    const reward = { pass: 1, partial: POLICY.partialReward, fail: 0, infra_error: 0 };
    for (const f of changes!.record.hazards.flatMap((z) => z.froms)) {
      const since = learnable.slice(f - 1);
      const sum = (pick: (r: (typeof learnable)[number]) => boolean) => {
        const rs = since.filter(pick);
        return { trials: rs.length, reward: rs.reduce((s, r) => s + reward[r[2]], 0), passes: rs.filter((r) => r[2] === 'pass').length };
      };
      const expectSums = (got: ReturnType<typeof windowEvidence>, want: ReturnType<typeof sum>) => {
        expect(got.trials).toBe(want.trials);
        expect(got.reward).toBeCloseTo(want.reward, 12);
        expect(got.passes).toBe(want.passes);
      };
      const g = windowEvidence(changes!.global, f);
      const c = windowEvidence(changes!.taskClass, f);
      expectSums(g, sum(() => true));
      expectSums(c, sum((r) => r[0] === 'a'));
      expectSums(windowEvidence(changes!.repoTaskClass, f), sum((r) => r[0] === 'a' && r[1] === 'x'));
      expect(g.trials - c.trials).toBe(sum((r) => r[0] === 'b').trials);
    }
  });

  test('a template that changed is read from its change; one that did not keeps its whole record', () => {
    const policy: PolicyConfig = { ...POLICY, decay: { halfLife: 30, unit: 'runs' } };
    const changed = history(policy);
    const steady = history(policy);
    // 60 runs at 90% then 20 at 10% (a deterministic pattern), against 80 at 50%.
    for (let i = 0; i < 80; i++) changed.observe('a', 'x', (i < 60 ? i % 10 !== 0 : i % 10 === 0) ? 'pass' : 'fail');
    for (let i = 0; i < 80; i++) steady.observe('a', 'x', i % 2 === 0 ? 'pass' : 'fail');
    const c = changed.arm('a', 'x').evidence.changes!;
    const s = steady.arm('a', 'x').evidence.changes!;
    // Alone, each says what hazard it saw: no change at all is the steady one's most likely.
    expect(hazardWeights([s.record])[0]).toBeGreaterThan(0.5);
    expect(hazardWeights([c.record])[0]).toBeLessThan(0.01);
    const points = changePoints(c.record, hazardWeights([c.record]), policy, 0);
    const near = points.filter((p) => p.from >= 56 && p.from <= 64).reduce((t, p) => t + p.weight, 0);
    expect(near).toBeGreaterThan(0.8);
    expect(changePoints(s.record, hazardWeights([s.record]), policy, 0)[0]).toEqual(expect.objectContaining({ from: 1 }));
  });

  test('day-based decay (/11): the chance that the rate changed since the last run grows with the time since', () => {
    const h = history(DAYS, HOUR);
    // 40 runs at 90% then 20 at 10%, an hour apart: a change the hazard learns from.
    for (let i = 0; i < 60; i++) h.observe('a', 'x', (i < 40 ? i % 10 !== 0 : i % 10 === 0) ? 'pass' : 'fail');
    const { record } = h.arm('a', 'x').evidence.changes!;
    expect(record.lastMs).toBe(60 * HOUR);
    const hazards = hazardWeights([record]);
    const idle = (nowMs: number) => changePoints(record, hazards, DAYS, nowMs).find((p) => p.from === record.runs + 1)?.weight ?? 0;
    expect(idle(60 * HOUR)).toBe(0);
    // A decision before the last run finished (a replay with an earlier clock) adds nothing either.
    expect(idle(0)).toBe(0);
    const week = [1, 6, 24, 24 * 7].map((hours) => idle(60 * HOUR + hours * HOUR));
    for (let i = 1; i < week.length; i++) expect(week[i]!).toBeGreaterThan(week[i - 1]!);
    // After a week (seven half-lives) a change since is as likely as that the rate changes at all.
    expect(week[3]!).toBeCloseTo(1 - hazards[0]!, 2);
  });

  test('day-based decay (/11): a run that finished before the latest adds no chance of a change', () => {
    const h = history(DAYS, HOUR);
    for (let i = 0; i < 10; i++) h.observe('a', 'x', i % 2 === 0 ? 'pass' : 'fail');
    const before = h.arm('a', 'x').evidence.changes!.record;
    h.observe('a', 'x', 'pass', 5 * HOUR);
    const after = h.arm('a', 'x').evidence.changes!.record;
    expect(after.lastMs).toBe(before.lastMs);
    // No segment begins with the late run: every hazard keeps the change points it had.
    after.hazards.forEach((z, g) => expect(z.froms).toEqual(before.hazards[g]!.froms));
  });

  test('without the field (a stored /7 configuration), or with day-based decay in a stored /10 configuration, nothing is kept', () => {
    const { decayChanges: _, ...stored7 } = POLICY;
    const { dayChangeHazard: _d, ...stored10 } = DAYS;
    for (const policy of [stored7, stored10]) {
      const h = history(policy);
      h.observe('a', 'x', 'pass');
      expect(h.arm('a', 'x').evidence.changes).toBeUndefined();
    }
  });
});

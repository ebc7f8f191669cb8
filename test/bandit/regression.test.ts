import { describe, expect, test } from 'vitest';
import {
  armEvidenceOf,
  asArmId,
  asDecisionId,
  createRng,
  DEFAULT_POLICY_CONFIG,
  project,
  recommend,
  type Context,
  type DerivedReader,
  type LoggedEvent,
  type PolicyConfig,
  type StatsKey,
  type StatsRecord,
} from '../../src/bandit/index.js';

// Pinned decisions: a fixed history and decision id give exactly this pick and propensity. They
// change only with an intentional change of the policy (and its POLICY_CODE_VERSION); update them
// in the same commit and say why.
const ev = (trials: number, reward: number) => ({ trials, reward, stamp: 0 });
const arms = [
  { armId: asArmId('bug-fix@v1'), evidence: { global: ev(40, 30), taskClass: ev(30, 24), repoTaskClass: ev(10, 8) } },
  { armId: asArmId('bug-fix@v2'), evidence: { global: ev(12, 6), taskClass: ev(12, 6), repoTaskClass: ev(3, 1) } },
  { armId: asArmId('bug-fix@v3'), evidence: { global: ev(0, 0), taskClass: ev(0, 0), repoTaskClass: ev(0, 0) } },
  { armId: asArmId('generic@v1'), evidence: { global: ev(200, 90), taskClass: ev(20, 9), repoTaskClass: ev(0, 0) } },
];
const decide = (id: string, config: PolicyConfig = DEFAULT_POLICY_CONFIG) =>
  recommend({ decisionId: asDecisionId(id), context: { taskClass: 'bug-fix', repo: 'acme/api' }, arms, nowMs: 0, topK: 0 }, config);

// sts-pooled-eb/4 fits the base prior with the hyperprior's correct Jacobian and a strength cap of
// 1,000 (a stronger prior: the untried bug-fix@v3 looks less likely to be far better), adds the
// class's and the repositories' variances instead of capping (a wider cell prior), and scales ε with
// (ln K / ln 8)² (smaller at 4 candidates): bug-fix@v3's propensity is 0.169 (was 0.279).
// Propensities are Rao–Blackwellised (exact pick probabilities given the other draws, averaged), so
// they are no longer multiples of 1/draws. The /3 and /2 settings replay their own decisions: a
// configuration stored without the new fields reads as /3 did.
// sts-pooled-eb/5 changes decayed evidence (decayModel), how a new version is trialled (versionPrior
// 'fair-trial', pinned below with a parent) and learns how far repositories (task classes) differ from
// every group at that level (groupSpread). These arms carry no spread records, so where a wider record
// holds other groups' runs the spread is the hyperprior's: generic@v1's 200 runs elsewhere and 20 in
// other repositories of the class say little about this repository, and it is explored (pin-a) where
// /4 never picked it.
// sts-pooled-eb/7 integrates the base prior's strength over its posterior (basePriorStrength
// 'integrated'): each draw takes a strength, so the untried bug-fix@v3 is drawn from a wider mixture and
// its propensity rises (0.090, was 0.077). Under decay it also counts the spread's groups by their effective
// sample size (groupSpreadCounts); these records have no decay, so that changes nothing here.
// sts-pooled-eb/8 reads run-decayed evidence through change points (decayChanges); without decay, as in most
// pins here, it decides as /7 did, so /7's pins are /8's too (pinned below under decay, with a stored /7 configuration).
// sts-pooled-eb/9 reads each group's sampling variance at its parent's rate in the spread's likelihood
// (groupSpreadVariance): the arms above carry no spread records, so they decide as /8; the classless log below,
// whose spread is learned, is pinned under both.
// sts-pooled-eb/10 clips each draw at a horizon-aware bound (horizonClip 1, the share counted as ADA-UCB does,
// horizonClipShare): the candidates with the most evidence have their draws' upper tails cut; the picks stay, the
// propensities move (generic@v1 0.069, was 0.076; the untried bug-fix@v3 0.094, was 0.090). A stored /9
// configuration, without the two fields, replays /9's pins.
// sts-pooled-eb/11 reads day-decayed evidence through change points too (dayChangeHazard); without day-based decay
// it decides as /10, so /10's pins are /11's (pinned below under day-based decay, with a stored /10 configuration).
describe('regression: pinned decisions of policy sts-pooled-eb/11', () => {
  // A configuration stored by /10 has no dayChangeHazard.
  const { dayChangeHazard: _dh, ...stored10 } = DEFAULT_POLICY_CONFIG;
  // A configuration stored by /9 has neither horizonClip nor horizonClipShare.
  const { horizonClip: _hc, horizonClipShare: _hs, ...stored9 } = stored10;
  // A configuration stored by /8 has no groupSpreadVariance.
  const { groupSpreadVariance: _gv, ...stored8 } = stored9;
  // A configuration stored by /7 has no decayChanges.
  const { decayChanges: _dc, ...stored7 } = stored8;
  // A configuration stored by /6 has neither basePriorStrength nor groupSpreadCounts: it replays /6's decisions.
  const { basePriorStrength: _b, groupSpreadCounts: _gc, ...stored6 } = stored7;
  // /6 changes contexts without a task class only (classlessSpread); these decisions name one, so a stored
  // /5 configuration (without the field) and a stored /6 one decide alike here.
  const { classlessSpread: _c, ...stored5 } = stored6;
  type Version = readonly [name: string, config: PolicyConfig, fingerprint: string];
  type Pin = readonly [name: string, config: PolicyConfig, fingerprint: string, id: string, chosen: string, propensity: number];
  const v11: Version = ['sts-pooled-eb/11', DEFAULT_POLICY_CONFIG, 'f0581edfa538'];
  const v10: Version = ['a stored sts-pooled-eb/10 configuration', stored10, '4b3d78044aea'];
  const v9: Version = ['a stored sts-pooled-eb/9 configuration', stored9, '090d5155b09f'];
  const v8: Version = ['a stored sts-pooled-eb/8 configuration', stored8, 'c145b95432c7'];
  const v7: Version = ['a stored sts-pooled-eb/7 configuration', stored7, '5715b9d7bcf7'];
  const v6: Version = ['a stored sts-pooled-eb/6 configuration', stored6, 'e36c053fb58f'];
  const v5: Version = ['a stored sts-pooled-eb/5 configuration', stored5, '26ac89b343c1'];
  const pins: Pin[] = [
    ...[v11, v10].flatMap((v): Pin[] => [
      [...v, 'pin-b', 'generic@v1', 0.06860434640509785],
      [...v, 'pin-c', 'bug-fix@v1', 0.8152987895643019],
      [...v, 'x2', 'bug-fix@v3', 0.09393647034019321],
      [...v, 'pin-23', 'bug-fix@v1', 0.8152987895643019],
    ]),
    ...[v9, v8, v7].flatMap((v): Pin[] => [
      [...v, 'pin-b', 'generic@v1', 0.0757009567697527],
      [...v, 'pin-c', 'bug-fix@v1', 0.7981624943027084],
      [...v, 'x2', 'bug-fix@v3', 0.08998034504549718],
      [...v, 'pin-23', 'bug-fix@v1', 0.7981624943027084],
    ]),
    ...[v6, v5].flatMap((v): Pin[] => [
      [...v, 'pin-a', 'generic@v1', 0.08171194252388439],
      [...v, 'pin-c', 'bug-fix@v1', 0.8021543194902608],
      [...v, 'x2', 'bug-fix@v3', 0.07722694458786475],
      [...v, 'pin-23', 'bug-fix@v1', 0.8021543194902608],
    ]),
  ];
  test.each(pins)('%s: decision %s picks %s with propensity %d', (_name, config, fingerprint, id, chosen, propensity) => {
    const d = decide(id, config);
    expect(d.chosen).toBe(chosen);
    expect(d.propensity).toBe(propensity);
    // The prefix is the running code's version; the fingerprint is the configuration's.
    expect(d.policyVersion).toBe(`sts-pooled-eb/11+${fingerprint}`);
  });

  // A log without task classes: four templates, three repositories that do not differ. /6 learns that from
  // every template's repositories and pools the repository with the template's record; /5 widened each
  // repository by the hyperprior, so generic@v1's few runs in org/b counted almost alone.
  const classless = (config: PolicyConfig, id: string, stepMs = 1) => {
    const stats = new Map<string, StatsRecord>();
    const sid = (k: StatsKey) => k.join('\u0000');
    const reader: DerivedReader = { template: () => undefined, stats: (k) => stats.get(sid(k)), refinement: () => undefined };
    const rng = createRng('regression\u0000classless');
    const ids = ['bug-fix@v1', 'bug-fix@v2', 'bug-fix@v3', 'generic@v1'];
    const rates = [0.6, 0.5, 0.45, 0.55];
    for (let seq = 1; seq <= 240; seq++) {
      const arm = seq % 4 === 0 && seq > 200 ? 3 : seq % 3;
      const context: Context = { taskClass: '', repo: `org/${'abc'[seq % 3]}` };
      const outcome = rng.next() < rates[arm]! ? 'pass' : 'fail';
      const facts = { taskId: `t${seq}`, attempt: 1, outcome, retries: 0, durationSeconds: 0, failureReason: '', agent: '', model: '' } as const;
      const event = {
        type: 'observation',
        seq,
        atMs: seq * stepMs,
        content: { ...facts, runId: `r${seq}`, decisionId: '', templateId: ids[arm]!, taskClass: '', repo: context.repo, finishedAtMs: seq * stepMs },
        observation: { ...facts, runId: `r${seq}`, decisionId: asDecisionId(''), armId: asArmId(ids[arm]!), context, finishedAtMs: seq * stepMs },
      } as LoggedEvent;
      for (const c of project(event, reader, config)) if (c.kind === 'stats') stats.set(sid(c.key), c.value);
    }
    const context = { taskClass: '', repo: 'org/b' };
    const arms = ids.map((t) => armEvidenceOf(t, context, reader, config));
    // Under day-based decay the decision is an hour after the last run; other clocks ignore the time.
    return recommend({ decisionId: asDecisionId(id), context, arms, nowMs: stepMs === 1 ? 0 : 241 * stepMs, topK: 0 }, config);
  };
  test.each([
    ['pin-a', '/11', DEFAULT_POLICY_CONFIG, 'bug-fix@v3', 0.3648799567132464],
    ['pin-c', '/11', DEFAULT_POLICY_CONFIG, 'bug-fix@v1', 0.43830296574098576],
    ['pin-a', 'a stored /10 configuration', stored10, 'bug-fix@v3', 0.3648799567132464],
    ['pin-c', 'a stored /10 configuration', stored10, 'bug-fix@v1', 0.43830296574098576],
    ['pin-a', 'a stored /9 configuration', stored9, 'bug-fix@v3', 0.3600452103082854],
    ['pin-c', 'a stored /9 configuration', stored9, 'bug-fix@v1', 0.4327552917824397],
    ['pin-a', 'a stored /8 configuration', stored8, 'bug-fix@v3', 0.3485295345684024],
    ['pin-c', 'a stored /8 configuration', stored8, 'bug-fix@v1', 0.43653628680907036],
    ['pin-a', 'a stored /6 configuration', stored6, 'bug-fix@v3', 0.3553303972696317],
    ['pin-a', 'a stored /5 configuration', stored5, 'bug-fix@v3', 0.34940852419260543],
    ['pin-c', 'a stored /6 configuration', stored6, 'generic@v1', 0.07057685058156238],
    ['pin-c', 'a stored /5 configuration', stored5, 'generic@v1', 0.05226560634541192],
  ] as const)('a context without a task class: decision %s under %s picks %s with propensity %d', (id, _name, config, chosen, propensity) => {
    const d = classless(config, id);
    expect(d.chosen).toBe(chosen);
    expect(d.propensity).toBe(propensity);
  });

  // The same log under run-based decay (half-life 60 runs), where /8 reads each template through its change
  // points and a stored /7 configuration through its decayed sums alone.
  const decay = { halfLife: 60, unit: 'runs' } as const;
  test.each([
    ['pin-a', '/11', 'bug-fix@v3', 0.357783630190473, { ...DEFAULT_POLICY_CONFIG, decay }],
    ['pin-c', '/11', 'bug-fix@v1', 0.4313144639264383, { ...DEFAULT_POLICY_CONFIG, decay }],
    ['pin-a', 'a stored /10 configuration', 'bug-fix@v3', 0.357783630190473, { ...stored10, decay }],
    ['pin-c', 'a stored /10 configuration', 'bug-fix@v1', 0.4313144639264383, { ...stored10, decay }],
    ['pin-a', 'a stored /9 configuration', 'bug-fix@v3', 0.34938165438502994, { ...stored9, decay }],
    ['pin-c', 'a stored /9 configuration', 'bug-fix@v1', 0.41744250468272426, { ...stored9, decay }],
    ['pin-a', 'a stored /8 configuration', 'bug-fix@v3', 0.3450961321308705, { ...stored8, decay }],
    ['pin-c', 'a stored /8 configuration', 'bug-fix@v1', 0.42067637770657823, { ...stored8, decay }],
    ['pin-a', 'a stored /7 configuration', 'bug-fix@v3', 0.34184807873571416, { ...stored7, decay }],
    ['pin-c', 'a stored /7 configuration', 'bug-fix@v1', 0.41741965094769323, { ...stored7, decay }],
  ] as const)('run-based decay: decision %s under %s picks %s with propensity %d', (id, _name, chosen, propensity, config) => {
    const d = classless(config, id);
    expect([d.chosen, d.propensity]).toEqual([chosen, propensity]);
  });

  // The same log under day-based decay (a run an hour, half-life 60 hours, the decision an hour after the last run),
  // where /11 reads each template through its change points and a stored /10 configuration through its decayed sums.
  const days = { halfLife: 2.5, unit: 'days' } as const;
  test.each([
    ['pin-a', '/11', 'bug-fix@v3', 0.35846907717490817, { ...DEFAULT_POLICY_CONFIG, decay: days }],
    ['pin-c', '/11', 'bug-fix@v1', 0.42667706715285747, { ...DEFAULT_POLICY_CONFIG, decay: days }],
    ['pin-a', 'a stored /10 configuration', 'bug-fix@v3', 0.34757914381740374, { ...stored10, decay: days }],
    ['pin-c', 'a stored /10 configuration', 'bug-fix@v1', 0.3926552054279281, { ...stored10, decay: days }],
  ] as const)('day-based decay: decision %s under %s picks %s with propensity %d', (id, _name, chosen, propensity, config) => {
    const d = classless(config, id, 3_600_000);
    expect([d.chosen, d.propensity]).toEqual([chosen, propensity]);
  });

  // A configuration stored by /4 has none of /5's to /11's fields: it replays /4's decisions.
  const { versionPrior: _v, trialRuns: _r, trialShare: _s, decayModel: _d, groupSpread: _g, ...stored4 } = stored5;
  test.each([
    ['pin-a', 'bug-fix@v1', 0.8027945833263445],
    ['pin-c', 'bug-fix@v1', 0.8027945833263445],
    ['pin-12', 'bug-fix@v3', 0.16858053730470415],
    ['pin-23', 'bug-fix@v3', 0.16858053730470415],
  ])('a stored sts-pooled-eb/4 configuration replays its decision %s (%s, propensity %d)', (id, chosen, propensity) => {
    const d = decide(id, stored4);
    expect(d.chosen).toBe(chosen);
    expect(d.propensity).toBe(propensity);
    // The prefix is the running code's version; the fingerprint of the stored configuration is /4's.
    expect(d.policyVersion).toBe('sts-pooled-eb/11+432de3ba6b2b');
  });

  // bug-fix@v3 as a new version of bug-fix@v2 (12 runs, half passed): /4 inherited bug-fix@v2's record; /5 tries it.
  const withParent = arms.map((a) => (a.armId === 'bug-fix@v3' ? { ...a, parent: arms[1]! } : a));
  const decideParent = (id: string, config: PolicyConfig) =>
    recommend({ decisionId: asDecisionId(id), context: { taskClass: 'bug-fix', repo: 'acme/api' }, arms: withParent, nowMs: 0, topK: 0 }, config);
  test.each([
    ['sts-pooled-eb/11', 'bug-fix@v1', 0.7298299928717754, DEFAULT_POLICY_CONFIG],
    ['a stored sts-pooled-eb/9 configuration', 'bug-fix@v1', 0.6992357720335406, stored9],
    ['a stored sts-pooled-eb/8 configuration', 'bug-fix@v1', 0.6992357720335406, stored8],
    ['a stored sts-pooled-eb/6 configuration', 'bug-fix@v3', 0.16905355484207274, stored6],
    ['a stored sts-pooled-eb/4 configuration', 'bug-fix@v1', 0.8490105376451068, stored4],
  ] as const)('a new version: decision pin-a under %s picks %s with propensity %d', (_name, chosen, propensity, config) => {
    const d = decideParent('pin-a', config);
    expect(d.chosen).toBe(chosen);
    expect(d.propensity).toBe(propensity);
  });

  const { basePriorStrengthExponent: _, propensityEstimator: __, poolingCombination: ___, ...stored } = {
    ...stored4,
    empiricalBayesMaxStrength: 50,
    satisficingScale: 'log-candidates' as const,
  };
  test.each([
    ['pin-a', 'bug-fix@v3', 0.279],
    ['pin-b', 'bug-fix@v3', 0.279],
    ['pin-c', 'bug-fix@v1', 0.704],
    ['pin-e', 'bug-fix@v1', 0.704],
  ])('a stored sts-pooled-eb/3 configuration replays its decision %s (%s, propensity %d)', (id, chosen, propensity) => {
    const d = decide(id, stored);
    expect(d.chosen).toBe(chosen);
    expect(d.propensity).toBe(propensity);
  });

  test.each([
    ['pin-a', 'bug-fix@v3', 0.232],
    ['pin-c', 'bug-fix@v1', 0.755],
  ])("satisficingOrder 'evidence' with a fixed tolerance replays the sts-pooled-eb/2 decision %s (%s, propensity %d)", (id, chosen, propensity) => {
    const d = decide(id, { ...stored, satisficingOrder: 'evidence', satisficingScale: 'fixed' });
    expect(d.chosen).toBe(chosen);
    expect(d.propensity).toBe(propensity);
  });
});

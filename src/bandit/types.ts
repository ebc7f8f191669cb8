/** Domain vocabulary of the pure core. The API says "template"; the core says "arm". */

declare const brand: unique symbol;
type Brand<T, B extends string> = T & { readonly [brand]: B };

/** A prompt template version as the bandit sees it, e.g. `bug-fix@v3`. */
export type ArmId = Brand<string, 'ArmId'>;
/** One Recommend outcome. */
export type DecisionId = Brand<string, 'DecisionId'>;

export const asArmId = (s: string): ArmId => s as ArmId;
export const asDecisionId = (s: string): DecisionId => s as DecisionId;

/** Verified result of one run. */
export type Outcome = 'pass' | 'partial' | 'fail' | 'timeout' | 'infra_error' | 'unverified';
export const OUTCOMES: readonly Outcome[] = ['pass', 'partial', 'fail', 'timeout', 'infra_error', 'unverified'];

/** Which level of pooled evidence carried an estimate, narrowest last. */
export type EvidenceLevel = 'prior' | 'global' | 'task_class' | 'repo_task_class';

export type ArmStatus = 'active' | 'candidate' | 'retired';

/** Task context. Empty strings mean "unknown" and widen the segment. */
export interface Context {
  readonly taskClass: string;
  readonly repo: string;
}

/**
 * Decayed sufficient statistics of one arm in one segment.
 * `reward` is the (decayed) sum of rewards, `trials` the (decayed) number of runs that taught
 * something; both scale together under decay. `stamp` is the decay clock: the newest finish time
 * in ms for day-based decay, the run count for run-based decay, 0 without decay.
 */
export interface Evidence {
  readonly reward: number;
  readonly trials: number;
  readonly stamp: number;
  /** The (decayed) number of passes among `trials`; absent in records projected before it was counted. */
  readonly passes?: number;
  /**
   * The (decayed) sum of squared run weights, for the effective sample size (trials)²/squares; kept only
   * under decay on the template clock (PolicyConfig.decayModel).
   */
  readonly squares?: number;
}

/**
 * Beta(alpha, beta) over an arm's expected reward (pass 1, partial PolicyConfig.partialReward, else 0),
 * with where its evidence came from; `passAlpha` is the pooled pass Beta's alpha (same strength:
 * Beta(passAlpha, alpha + beta − passAlpha) over the pass rate; see outcomes.ts).
 */
export interface Posterior {
  readonly alpha: number;
  readonly beta: number;
  readonly passAlpha?: number;
  /** Pseudo-observations contributed by each level; they add up to alpha + beta. */
  readonly contributions: Readonly<Record<EvidenceLevel, number>>;
}

/** The evidence an arm has at the three pooling levels for one context. */
export interface PooledEvidence {
  readonly global: Evidence;
  /** Template in the task class (all repositories); undefined when the context has no task class. */
  readonly taskClass: Evidence | undefined;
  /** Template in the task class and repository; undefined when the context lacks either. */
  readonly repoTaskClass: Evidence | undefined;
  /**
   * How this template's groups differ, as the log-likelihood of each between-group sd on spread.ts's
   * grid: of its repositories within their task classes (`repo`), of its task classes within its
   * global record (`taskClass`). Present under `groupSpread: 'learned'`.
   */
  readonly spread?: LearnedSpread | undefined;
  /** Under decay with change points (policy /8): the template's change-point posterior and each level's sums since its change points. */
  readonly changes?: ArmChanges | undefined;
}

/** What a template's records say about when its rate last changed (changes.ts), at the three levels of a context. */
export interface ArmChanges {
  readonly record: ChangeRecord;
  readonly global: WindowCounts | undefined;
  readonly taskClass: WindowCounts | undefined;
  readonly repoTaskClass: WindowCounts | undefined;
}

/** What a template's records say about how its groups differ (see PooledEvidence.spread). */
export interface LearnedSpread {
  /** Log-likelihood per grid point of the sd between repositories within task classes. */
  readonly repo: readonly number[];
  /** Log-likelihood per grid point of the sd between task classes within the template. */
  readonly taskClass: readonly number[];
  /** Σ n² over the repositories of the context's task class (n: a repository's runs there). */
  readonly repoSquares: number;
  /** Σ n² over the template's task classes. */
  readonly classSquares: number;
}

/** One level's runs since each kept change point `froms[k]` (changes.ts) (a template run number, from 1). */
export interface WindowCounts {
  readonly froms: readonly number[];
  readonly reward: readonly number[];
  readonly trials: readonly number[];
  readonly passes: readonly number[];
}

/** The template's change-point posterior, kept in its global record. */
export interface ChangeRecord {
  /** The template's learnable runs so far. */
  readonly runs: number;
  /** Per hazard: ln p(the template's runs | hazard), and the log weight of each hypothesis it keeps. */
  readonly hazards: ReadonlyArray<{ readonly logLik: number; readonly froms: readonly number[]; readonly logWeights: readonly number[] }>;
  /** Under day-based decay: the latest finish time of the template's learnable runs (ms). */
  readonly lastMs?: number;
}

/** Everything the policy knows about one candidate arm. */
export interface ArmEvidence {
  readonly armId: ArmId;
  readonly evidence: PooledEvidence;
  /** The parent version's evidence in the same context, when the arm names a parent. */
  readonly parent?: ArmEvidence | undefined;
}

/** A posterior summarised for people: the expected reward and the pass rate, each with its 95% interval. */
export interface PosteriorSummary {
  /** Expected reward (pass 1, partial the policy's partial reward, else 0) and its 95% interval. */
  readonly mean: number;
  readonly ciLow: number;
  readonly ciHigh: number;
  /** Pass rate (the share of judged runs that pass) and its 95% interval; absent in decisions logged before it existed. */
  readonly passRate?: number;
  readonly passRateLow?: number;
  readonly passRateHigh?: number;
  readonly alpha: number;
  readonly beta: number;
  readonly observations: number;
  readonly evidenceLevel: EvidenceLevel;
}

export interface RankedArm {
  readonly armId: ArmId;
  readonly posterior: PosteriorSummary;
  readonly probBest: number;
  readonly propensity: number;
  /** Own and borrowed evidence behind the posterior (decisions logged before it existed have none). */
  readonly sources?: EvidenceSources;
}

/** Where a posterior's evidence comes from: the template's own runs in this context, and what it borrowed. */
export interface EvidenceSources {
  /** Which level is "this context": the narrowest the request names. */
  readonly ownLevel: Exclude<EvidenceLevel, 'prior'>;
  /** The template's runs at that level (after decay). */
  readonly ownRuns: number;
  /**
   * What those runs count for in the posterior (its contribution at that level): ownRuns, or fewer when the
   * posterior is the moment-matched Beta of a mixture over the base prior's strength. Absent in decisions
   * logged before it existed, whose ownRuns was this figure.
   */
  readonly ownPseudoRuns?: number;
  /** Borrowed evidence, narrowest first; levels that lent nothing are left out. */
  readonly borrowed: readonly BorrowedEvidence[];
}

export interface BorrowedEvidence {
  /**
   * 'task_class': the template's runs in other repositories of this task class; 'global': in other task
   * classes (or without one); 'parent': the version it refines, in this context; 'prior': the base prior
   * fitted across the candidates.
   */
  readonly source: 'task_class' | 'global' | 'parent' | 'prior';
  /** Runs recorded there beyond this context's (after decay); 0 for the prior and a parent. */
  readonly runs: number;
  /** What they count for in this posterior, in pseudo-runs, after the discount for how much groups differ. */
  readonly pseudoRuns: number;
}

export interface Lift {
  readonly chosenMean: number;
  readonly uniformMean: number;
  readonly absolute: number;
  readonly relative: number;
  readonly ciLow: number;
  readonly ciHigh: number;
}

export interface Decision {
  readonly decisionId: DecisionId;
  readonly context: Context;
  readonly chosen: ArmId;
  readonly propensity: number;
  readonly ranking: readonly RankedArm[];
  readonly lift: Lift;
  readonly policyVersion: string;
  readonly rationale: string;
}

/**
 * What a run says about itself beside its identity and context: the fields every run shape shares
 * (ObserveContent as sent, Observation as learned from, reports' RunRow, the importers' output).
 */
export interface RunFacts {
  /** The task (bead); '' when unknown, and then the run is its own task. */
  readonly taskId: string;
  /** Attempt at the task, from 1 (0 = unknown, read as a first attempt). */
  readonly attempt: number;
  readonly outcome: Outcome;
  readonly retries: number;
  readonly durationSeconds: number;
  readonly failureReason: string;
  readonly agent: string;
  readonly model: string;
}

/**
 * Largest `attempt` and `retries` an Observe may give; validate.ts enforces it (a sync test pins
 * the two) and the command line checks its flags against it before calling.
 */
export const MAX_RUN_COUNT = 1_000_000;

/** One verified run, as the core sees it. */
export interface Observation extends RunFacts {
  readonly runId: string;
  readonly decisionId: string;
  readonly armId: ArmId;
  readonly context: Context;
  /** Finish time, ms since the epoch. */
  readonly finishedAtMs: number;
}

/** A field that failed validation, named by its proto path. */
export interface Violation {
  readonly field: string;
  readonly description: string;
}

/**
 * The refinement queue, with a person in the loop: scans open items for templates that need
 * work (src/reports/refinements.ts decides which), and people accept or reject them. Accepting
 * registers the new template version with its parent, so it starts from a discounted copy of the
 * parent's record. learnloop never edits a prompt.
 */
import { InvalidArgument, validateRefinementDecision, validateTemplateRegistration, type ArmStatus, type Limits, type RefinementRecord, type TemplateRecord } from '../bandit/index.js';
import { scanRefinements, type RefinementOptions, type RefinementRow, type RemediationRules, type RunRow, type TemplateRow, type TrendOptions } from '../reports/index.js';
import type { Store } from '../store/port.js';
import { assertRoomFor, decideRefinementPlan, openRefinementPlan, type DecideResult } from './rules.js';
import { RunRows } from './run-rows.js';

/** What the reports read from the log: runs, templates and refinement items. */
export interface ReportData {
  readonly rows: RunRow[];
  readonly templates: TemplateRow[];
  readonly refinements: RefinementRow[];
}

/** Reads the log into report rows (observations in log order; templates with their status history). */
export async function reportData(store: Store): Promise<ReportData> {
  const log = new RunRows(store);
  const rows = [...(await log.all())];
  const changes = await log.statusChanges();
  return {
    rows,
    templates: (await store.templates()).map((t) => ({
      templateId: t.templateId,
      parentTemplateId: t.parentTemplateId,
      status: t.status,
      statusChanges: changes.get(t.templateId) ?? [],
    })),
    refinements: (await store.refinements()).map(refinementRowOf),
  };
}

/** A refinement item as the row reports read. */
export const refinementRowOf = (r: RefinementRecord): RefinementRow => ({
  refinementId: r.refinementId,
  templateId: r.templateId,
  status: r.status,
  trigger: r.trigger,
  summary: r.summary,
  openedAtMs: r.openedAtMs,
  decidedAtMs: r.decidedAtMs,
  actor: r.actor,
  reason: r.reason,
  newTemplateId: r.newTemplateId,
});

export interface ScanResult {
  readonly opened: RefinementRecord[];
  readonly suppressed: ReadonlyArray<{ readonly templateId: string; readonly reason: string }>;
}

export interface AcceptParams {
  readonly refinementId: string;
  readonly actor: string;
  readonly reason: string;
  /** The new template version, e.g. "bug-fix@v3"; its parent is the item's template. */
  readonly newTemplateId: string;
  readonly description: string;
  /** Status of the new version (default 'candidate': recommended only when named). */
  readonly status?: ArmStatus;
}

export interface RejectParams {
  readonly refinementId: string;
  readonly actor: string;
  readonly reason: string;
}

export class RefinementQueue {
  constructor(
    private readonly store: Store,
    private readonly limits: Limits,
    private readonly now: () => number = Date.now,
  ) {}

  async list(status?: RefinementRecord['status']): Promise<RefinementRecord[]> {
    return (await this.store.refinements()).filter((r) => status === undefined || r.status === status);
  }

  get(refinementId: string): Promise<RefinementRecord | undefined> {
    return this.store.refinement(refinementId);
  }

  /** Opens an item for every template the detector flags as of `asOfMs`, guardrails applied. */
  async scan(asOfMs: number, rules: RemediationRules, options: Partial<RefinementOptions> = {}, trend: Partial<TrendOptions> = {}): Promise<ScanResult> {
    const data = await reportData(this.store);
    const { proposals, suppressed } = scanRefinements({ ...data, rules, asOfMs, options, trend });
    const opened: RefinementRecord[] = [];
    for (const p of proposals) {
      // Evidence goes through JSON so only plain data is stored.
      const evidence = JSON.parse(JSON.stringify(p.evidence)) as unknown;
      const atMs = this.now();
      const { result } = await this.store.commit(
        atMs,
        openRefinementPlan({ refinementId: p.refinementId, templateId: p.templateId, trigger: p.trigger, summary: p.summary, evidence }, atMs),
      );
      if (result.created) opened.push(result.record);
    }
    return { opened, suppressed };
  }

  /**
   * Accepts an open item: registers `newTemplateId` with the item's template as parent and
   * records who accepted it and why, in one commit; `duplicate` when this repeats the recorded acceptance.
   * @throws InvalidArgument, RefinementNotFound, RefinementNotOpen, TemplateConflict
   */
  async accept(p: AcceptParams): Promise<{ record: RefinementRecord; template: TemplateRecord; duplicate: boolean }> {
    const violations = validateRefinementDecision(p, this.limits, true);
    if (violations.length > 0) throw new InvalidArgument(violations);
    const item = await this.store.refinement(p.refinementId);
    const template = {
      status: p.status ?? 'candidate',
      description: p.description || fitText(`refines ${item?.templateId ?? ''} (${p.refinementId}): ${p.reason}`, this.limits.maxTextLength),
    };
    // A decided or unknown item is answered by the plan (unchanged, or NotFound/NotOpen), as before registering anything.
    if (item?.status === 'open') {
      const bad = validateTemplateRegistration({ templateId: p.newTemplateId, parentTemplateId: item.templateId, ...template }, this.limits);
      if (bad.length > 0) throw new InvalidArgument(bad);
      await assertRoomFor(this.store, this.limits, await this.store.unknownTemplates([p.newTemplateId]));
    }
    const atMs = this.now();
    const { result } = await this.store.commit(
      atMs,
      decideRefinementPlan({ refinementId: p.refinementId, decision: 'accepted', actor: p.actor, reason: p.reason, newTemplateId: p.newTemplateId }, template, atMs),
    );
    return { record: result.record, template: result.template!, duplicate: result.duplicate };
  }

  /**
   * Rejects an open item, recording who and why; `duplicate` when this repeats the recorded rejection.
   * @throws InvalidArgument, RefinementNotFound, RefinementNotOpen
   */
  async reject(p: RejectParams): Promise<Omit<DecideResult, 'template'>> {
    const violations = validateRefinementDecision(p, this.limits, false);
    if (violations.length > 0) throw new InvalidArgument(violations);
    const atMs = this.now();
    const { result } = await this.store.commit(atMs, decideRefinementPlan({ ...p, decision: 'rejected', newTemplateId: '' }, undefined, atMs));
    return { record: result.record, duplicate: result.duplicate };
  }
}

/** `text` cut to `max` UTF-16 units, never inside a surrogate pair (a default description built from a long reason must still fit). */
function fitText(text: string, max: number): string {
  if (text.length <= max) return text;
  return text.slice(0, /[\uD800-\uDBFF]/.test(text[max - 1] ?? '') ? max - 1 : max);
}

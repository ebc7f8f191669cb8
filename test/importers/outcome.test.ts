import { describe, expect, test } from 'vitest';
import { checkResult, classifyOutcome, parseVerification, type OutcomeInput } from '../../src/importers/outcome.js';
import { DEFAULT_POLICY_CONFIG, rewardOf } from '../../src/bandit/index.js';

const v = (o: Record<string, unknown>) => parseVerification(o);
const base: OutcomeInput = { status: 'done', exitCode: 0, failureReason: '', verification: undefined };

describe('outcome classification', () => {
  test.each<[string, Partial<OutcomeInput>, string, string]>([
    ['timeout status', { status: 'timeout', exitCode: null }, 'timeout', 'time limit reached'],
    ['timeout wins over a non-zero exit', { status: 'timeout', exitCode: 137, failureReason: 'exceeded 1800 s' }, 'timeout', 'exceeded 1800 s'],
    ['failed with an infrastructure reason', { status: 'failed', exitCode: null, failureReason: 'tmux session not found' }, 'infra_error', 'tmux session not found'],
    ['failed, rate limited by the provider', { status: 'failed', exitCode: 1, failureReason: 'HTTP 429 rate limited' }, 'infra_error', 'HTTP 429 rate limited'],
    // The old system's mistake: a non-zero exit is the agent's failure, never infrastructure.
    ['done with a non-zero exit', { exitCode: 2 }, 'fail', 'agent failed: exit 2'],
    ['failed with a non-zero exit and a reason', { status: 'failed', exitCode: 1, failureReason: 'npm test failed' }, 'fail', 'agent failed: exit 1: npm test failed'],
    ['failed with no exit code and no reason', { status: 'failed', exitCode: null }, 'fail', 'agent failed'],
    // The old system's other mistake: a missing verification is unverified, not partial or fail.
    ['done, clean exit, verification null', {}, 'unverified', 'verification missing'],
    ['every check skipped', { verification: v({ lint: 'skipped', tests: 'skipped', ubs: 'skipped' }) }, 'unverified', 'verification skipped'],
    ['all checks pass', { verification: v({ lint: 'pass', tests: 'pass', ubs: 'clean', overall: 'pass' }) }, 'pass', ''],
    // A check that was not run is not a fail.
    ['tests pass, lint and ubs skipped', { verification: v({ lint: 'skipped', tests: 'pass', ubs: 'skipped' }) }, 'pass', ''],
    ['overall pass, nothing itemised', { verification: v({ overall: 'pass' }) }, 'pass', ''],
    ['tests fail', { verification: v({ lint: 'pass', tests: 'fail', ubs: 'clean' }) }, 'fail', 'checks failed: tests'],
    ['tests and lint fail', { verification: v({ lint: 'fail', tests: 'fail', ubs: 'clean' }) }, 'fail', 'checks failed: tests, lint'],
    ['tests pass, lint fails', { verification: v({ lint: 'fail', tests: 'pass', ubs: 'clean', overall: 'fail' }) }, 'partial', 'checks failed: lint'],
    ['tests pass, ubs issues', { verification: v({ lint: 'pass', tests: 'pass', ubs: 'issues' }) }, 'partial', 'checks failed: ubs'],
    ['truthsayer scan with errors', { verification: v({ tests: 'pass', truthsayer: { summary: { errors: 3 } } }) }, 'partial', 'checks failed: truthsayer'],
    ['truthsayer scan clean', { verification: v({ tests: 'skipped', truthsayer: { summary: { errors: 0 } } }) }, 'pass', ''],
    ['overall fail with no check named', { verification: v({ overall: 'fail' }) }, 'fail', 'verification failed'],
  ])('%s -> %s', (_name, input, outcome, reason) => {
    const got = classifyOutcome({ ...base, ...input });
    expect(got.outcome).toBe(outcome);
    expect(got.failureReason).toBe(reason);
  });

  test.each<[unknown, string]>([
    ['pass', 'pass'], ['clean', 'pass'], [true, 'pass'], [0, 'pass'],
    ['fail', 'fail'], ['issues', 'fail'], [false, 'fail'], [3, 'fail'],
    ['skipped', 'not_run'], [undefined, 'not_run'], [null, 'not_run'], ['', 'not_run'],
  ])('check value %j reads as %s', (value, expected) => {
    expect(checkResult(value)).toBe(expected);
  });

  test('unverified and infra errors teach nothing; partial teaches the partial reward', () => {
    expect(rewardOf('unverified', DEFAULT_POLICY_CONFIG)).toBeNull();
    expect(rewardOf('infra_error', DEFAULT_POLICY_CONFIG)).toBeNull();
    expect(rewardOf('partial', DEFAULT_POLICY_CONFIG)).toBe(DEFAULT_POLICY_CONFIG.partialReward);
  });
});

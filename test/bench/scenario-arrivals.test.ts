import { describe, expect, test } from 'vitest';
import { loadScenario, runScenario } from '../../src/lift/run.js';

describe('scenario arrivals: how a policy treats a template that arrives during the run', () => {
  test('a better refinement takes over, a worse one is dropped, and uniform does neither', () => {
    const better = runScenario({ scenario: loadScenario('bench/scenarios/refined-better.json'), seeds: 3, policies: ['learnloop', 'uniform'] });
    const worse = runScenario({ scenario: loadScenario('bench/scenarios/refined-worse.json'), seeds: 3, policies: ['learnloop', 'uniform'] });
    const after = 2000 - 500;
    const b = better.arrivals!['learnloop']![0]!;
    expect(b.template).toBe('terse@v2');
    expect(b.majorityStepsMedian).toBeGreaterThanOrEqual(20);
    expect(b.majorityStepsMedian).toBeLessThan(200);
    expect(b.share).toBeGreaterThan(0.8);
    const w = worse.arrivals!['learnloop']![0]!;
    expect(w.majorityStepsMedian).toBe(after);
    expect(w.dropStepsMedian).toBeLessThan(200);
    expect(w.share).toBeLessThan(0.05);
    // A uniform pick holds a quarter of the traffic: never a majority of 20 for long, never dropped for long.
    expect(better.arrivals!['uniform']![0]!.share).toBeCloseTo(0.25, 1);
  });
});

import { defineConfig } from 'vitest/config';

// The statistical audit of docs/audits/2026-12-03-statistics.md: long Monte Carlo runs, not part of the suite
// (their files end .audit.ts). SCEN and REPS choose the world and its replications, and in cells.audit.ts POLICY
// overrides the policy configuration (see each file).
export default defineConfig({ test: { include: ['test/audit/**/*.audit.ts'], testTimeout: 900_000, pool: 'forks', maxWorkers: 1 } });

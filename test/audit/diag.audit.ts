import { test } from 'vitest';
import jStat from 'jstat';
import { createRng, DEFAULT_POLICY_CONFIG, sampleBeta, betaInterval } from '../../src/bandit/index.js';
import { basePriorMixture, logGamma } from '../../src/bandit/pooling.js';
import { Coverage } from '../bandit/hierarchy-world.js';

/** Coverage of one-cell posteriors (base prior + own counts) by how the interval is made. */
function mixtureQuantile(ws: number[], as: number[], bs: number[], q: number) {
  let lo = 0, hi = 1;
  for (let it = 0; it < 50; it++) { const mid = (lo + hi) / 2; let c = 0; ws.forEach((w, g) => (c += w * jStat.beta.cdf(mid, as[g]!, bs[g]!))); if (c < q) lo = mid; else hi = mid; }
  return (lo + hi) / 2;
}
test('diag', () => {
  const K = Number(process.env.K ?? 3), A = Number(process.env.A ?? 3), B = Number(process.env.B ?? 5), reps = Number(process.env.REPS ?? 2000);
  const rng = createRng(`diag-${K}-${A}-${B}`);
  const cov = { moment: new Coverage(), mixture: new Coverage(), oracle: new Coverage(), full: new Coverage(), fixedPostM: new Coverage(), widened: new Coverage(), laplace: new Coverage() };
  const ms: number[] = [];
  const pms: number[] = [];
  for (let w = 0; w < reps; w++) {
    const truth = Array.from({ length: K }, () => sampleBeta(rng, A, B));
    const n = truth.map(() => Math.floor(rng.next() * 31));
    const r = truth.map((p, i) => { let k = 0; for (let j = 0; j < n[i]!; j++) if (rng.next() < p) k++; return k; });
    const recs = r.map((x, i) => ({ reward: x, trials: n[i]!, stamp: 0 }));
    const mix = basePriorMixture(recs, DEFAULT_POLICY_CONFIG);
    ms.push(mix[0]!.alpha / (mix[0]!.alpha + mix[0]!.beta));
    const hits = { moment: 0, mixture: 0, oracle: 0, full: 0, fixedPostM: 0, widened: 0, laplace: 0 };
    // Full Bayes over (m, s): uniform m on a grid, same s^-0.5 hyperprior on ln s, grid 2..1000.
    const MG = 60, SG = 24;
    const full: Array<{ w: number; a: number; b: number }> = [];
    for (let a = 0; a < MG; a++) for (let b = 0; b < SG; b++) {
      const m = (a + 0.5) / MG, s = 2 * Math.pow(500, b / (SG - 1));
      const al = m * s, be = (1 - m) * s;
      let ll = -0.5 * Math.log(s);
      for (let i = 0; i < K; i++) ll += logGamma(al + r[i]!) + logGamma(be + n[i]! - r[i]!) - logGamma(s + n[i]!) - (logGamma(al) + logGamma(be) - logGamma(s));
      full.push({ w: ll, a: al, b: be });
    }
    const mx = Math.max(...full.map((f) => f.w)); let tot = 0; for (const f of full) { f.w = Math.exp(f.w - mx); tot += f.w; }
    for (const f of full) f.w /= tot;
    const fullKept = full.filter((f) => f.w > 1e-6);
    let pm = 0; for (const f of full) pm += f.w * f.a / (f.a + f.b);
    pms.push(pm);
    // s's posterior at m fixed to the (m, s) posterior mean of m.
    const sw: number[] = [], sa: number[] = [], sb: number[] = [];
    for (let b = 0; b < SG; b++) { const s = 2 * Math.pow(500, b / (SG - 1)); const al = pm * s, be = (1 - pm) * s; let ll = -0.5 * Math.log(s); for (let i = 0; i < K; i++) ll += logGamma(al + r[i]!) + logGamma(be + n[i]! - r[i]!) - logGamma(s + n[i]!) - (logGamma(al) + logGamma(be) - logGamma(s)); sw.push(ll); sa.push(al); sb.push(be); }
    const smx = Math.max(...sw); const swe = sw.map((x) => Math.exp(x - smx)); const st = swe.reduce((a, b) => a + b, 0);
    for (let i = 0; i < K; i++) {
      const as = mix.map((c) => c.alpha + r[i]!), bs = mix.map((c) => c.beta + n[i]! - r[i]!), ws = mix.map((c) => c.weight);
      let mean = 0, second = 0;
      ws.forEach((wt, g) => { const s = as[g]! + bs[g]!, mu = as[g]! / s; mean += wt * mu; second += wt * (mu * (1 - mu) / (s + 1) + mu * mu); });
      const v = second - mean * mean, S = mean * (1 - mean) / v - 1;
      const [lo, hi] = betaInterval(mean * S, (1 - mean) * S);
      let extra = 0;
      const m0 = mix[0]!.alpha / (mix[0]!.alpha + mix[0]!.beta);
      mix.forEach((c) => { const s = c.alpha + c.beta; let prec = 0; for (let j = 0; j < K; j++) if (n[j]! >= 1) prec += (n[j]! * (s + 1)) / (m0 * (1 - m0) * (n[j]! + s)); extra += c.weight * (s / (s + n[i]!)) ** 2 / prec; });
      const S2 = mean * (1 - mean) / (v + extra) - 1;
      const [wl, wh] = betaInterval(mean * S2, (1 - mean) * S2);
      hits.widened += wl <= truth[i]! && truth[i]! <= wh ? 1 : 0;
      {
        const V = mix.map((c) => { const s = c.alpha + c.beta; let prec = 0; for (let j = 0; j < K; j++) if (n[j]! >= 1) prec += (n[j]! * (s + 1)) / (m0 * (1 - m0) * (n[j]! + s)); return 1 / prec; });
        const lw = mix.map((c, g) => c.weight * Math.sqrt(V[g]!));
        const tw = lw.reduce((a, b) => a + b, 0);
        let mn = 0, sec = 0, ex = 0;
        mix.forEach((c, g) => { const w = lw[g]! / tw; const a = c.alpha + r[i]!, b = c.beta + n[i]! - r[i]!, s = a + b, mu = a / s; mn += w * mu; sec += w * (mu * (1 - mu) / (s + 1) + mu * mu); ex += w * ((c.alpha + c.beta) / s) ** 2 * V[g]!; });
        const vv = sec - mn * mn + ex, S3 = mn * (1 - mn) / vv - 1;
        const [ll, lh] = betaInterval(mn * S3, (1 - mn) * S3);
        hits.laplace += ll <= truth[i]! && truth[i]! <= lh ? 1 : 0;
      }
      const t = truth[i]!;
      hits.moment += lo <= t && t <= hi ? 1 : 0;
      const ql = mixtureQuantile(ws, as, bs, 0.025), qh = mixtureQuantile(ws, as, bs, 0.975);
      hits.mixture += ql <= t && t <= qh ? 1 : 0;
      const [ol, oh] = betaInterval(A + r[i]!, B + n[i]! - r[i]!);
      hits.oracle += ol <= t && t <= oh ? 1 : 0;
      const fl = mixtureQuantile(fullKept.map((f) => f.w), fullKept.map((f) => f.a + r[i]!), fullKept.map((f) => f.b + n[i]! - r[i]!), 0.025);
      const fh = mixtureQuantile(fullKept.map((f) => f.w), fullKept.map((f) => f.a + r[i]!), fullKept.map((f) => f.b + n[i]! - r[i]!), 0.975);
      hits.full += fl <= t && t <= fh ? 1 : 0;
      const pl = mixtureQuantile(swe.map((x) => x / st), sa.map((x) => x + r[i]!), sb.map((x) => x + n[i]! - r[i]!), 0.025);
      const ph = mixtureQuantile(swe.map((x) => x / st), sa.map((x) => x + r[i]!), sb.map((x) => x + n[i]! - r[i]!), 0.975);
      hits.fixedPostM += pl <= t && t <= ph ? 1 : 0;
    }
    for (const k of Object.keys(cov) as Array<keyof typeof cov>) cov[k].add(hits[k], K);
  }
  console.info(`DIAG K ${K} Beta(${A},${B}) reps ${reps}: ` + Object.entries(cov).map(([k, c]) => `${k} ${c}`).join('; ') + ` | plug-in m mean ${(ms.reduce((a,b)=>a+b,0)/ms.length).toFixed(4)}, posterior m mean ${(pms.reduce((a,b)=>a+b,0)/pms.length).toFixed(4)}, truth ${(A/(A+B)).toFixed(4)}`);
});

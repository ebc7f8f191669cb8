// The subset of jStat that learnloop uses (jstat ships no types).
declare module 'jstat' {
  interface Dist {
    cdf(x: number, a: number, b: number): number;
    inv(p: number, a: number, b: number): number;
  }
  const jStat: {
    beta: Dist;
    ibeta(x: number, a: number, b: number): number;
    normal: { inv(p: number, mean: number, sd: number): number };
    studentt: { inv(p: number, dof: number): number };
  };
  export default jStat;
}

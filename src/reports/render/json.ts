/** JSON renderer: sorted keys, numbers at fixed precision, so output is byte-stable. */

const DIGITS = 6;

function normalise(v: unknown): unknown {
  if (typeof v === 'number') return Number.isFinite(v) ? Number(v.toFixed(DIGITS)) : null;
  if (Array.isArray(v)) return v.map(normalise);
  if (typeof v === 'object' && v !== null) {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) out[k] = normalise((v as Record<string, unknown>)[k]);
    return out;
  }
  return v;
}

/** A report model as JSON (2-space indent, sorted keys, 6 decimals), ending with one newline. */
export function renderJson(model: unknown): string {
  return JSON.stringify(normalise(model), null, 2) + '\n';
}

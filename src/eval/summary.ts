/**
 * Plain-text summaries of an Evaluation for the terminal (evaluate, tune, demo).
 */
import type { Evaluation } from './metrics';

export function fmt(value: number | null | undefined, digits = 2): string {
  return value === null || value === undefined || !Number.isFinite(value) ? 'n/a' : value.toFixed(digits);
}

/** A few lines: totals, P/C/PC at the report SNRs (bin and cumulative), S90 and counts above it. */
export function formatEvaluationSummary(e: Evaluation, label = 'evaluation'): string {
  const lines: string[] = [];
  lines.push(
    `${label}: ${e.images} image(s), radius ${fmt(e.radius_arcsec, 2)}" (${fmt(e.radius_beams, 3)} beam, ${e.match_space}); ` +
      `truth ${e.totals.truth}, detections ${e.totals.detections}, TP ${e.totals.tp}, FP ${e.totals.fp}, FN ${e.totals.fn}`,
  );
  lines.push('  SNR   P[s,s+0.5)  C[s,s+0.5)  PC[s,s+0.5)   P(>=s)  C(>=s)  PC(>=s)');
  for (const key of Object.keys(e.purity)) {
    lines.push(
      `  ${key.padEnd(4)}  ${fmt(e.purity[key]).padStart(10)}  ${fmt(e.completeness[key]).padStart(10)}  ${fmt(e.pc[key]).padStart(11)}` +
        `   ${fmt(e.purity_cumulative[key]).padStart(6)}  ${fmt(e.completeness_cumulative[key]).padStart(6)}  ${fmt(e.pc_cumulative[key]).padStart(7)}`,
    );
  }
  lines.push(`  S90 ${fmt(e.s90)}; catalogue counts above S90 ${e.counts_above_s90 ?? 'n/a'} (TP ${e.tp_above_s90 ?? 'n/a'})`);
  return lines.join('\n');
}

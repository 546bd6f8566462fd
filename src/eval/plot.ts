/**
 * The paper's Fig. 9/10 layout as a PNG, drawn with @napi-rs/canvas:
 * - top row: TP/FP/FN counts per SNR bin (log scale). Left: TP and FP by detection SNR (what
 *   purity is made of); middle: TP and FN by true SNR (what completeness is made of); right: all three.
 * - bottom row: purity, completeness and purity x completeness against SNR, the 0.9 quality level
 *   as a grey line and each series' S90 as a vertical line (paper 5.1.2).
 * Several series (finders, crossmatch radii) share the panels: each has its own colour in the
 * bottom row and its own dash pattern in the top row, where colour means TP/FP/FN as in the paper.
 */
import { createCanvas, type SKRSContext2D } from '@napi-rs/canvas';
import { writeFileSync, renameSync } from 'node:fs';
import type { Evaluation, SnrBin } from './metrics';

export interface PlotSeries {
  label: string;
  evaluation: Evaluation;
  /** CSS colour of the bottom-row curves (default: by series index). */
  colour?: string;
  /** Dash pattern in both rows (default: by series index; [] is solid). */
  dash?: number[];
}

export interface PlotOptions {
  title?: string;
  width?: number;
  height?: number;
  /** Upper end of the SNR axis (default: the evaluation's binned range, at most 10). */
  snrMax?: number;
}

const SERIES_COLOURS = ['#6a3d9a', '#222222', '#1f78b4', '#e31a1c', '#33a02c', '#ff7f00'];
const DASHES: number[][] = [[], [8, 5], [2, 4], [10, 4, 2, 4]];
/** Dash patterns by name, for callers that style series themselves (paper Fig. 12: solid, dashed, dotted). */
export const PLOT_DASHES = Object.freeze({ solid: [] as number[], dashed: [8, 5], dotted: [2, 4], dashDot: [10, 4, 2, 4] });
export const PLOT_COLOURS = Object.freeze({ deepsource: '#6a3d9a', pybdsf: '#222222', sextractor: '#1f78b4' });

const colourOf = (s: PlotSeries, i: number): string => s.colour ?? SERIES_COLOURS[i % SERIES_COLOURS.length];
const dashOf = (s: PlotSeries, i: number): number[] => s.dash ?? DASHES[i % DASHES.length];
const COUNT_COLOURS = { tp: '#2ca02c', fp: '#ff7f0e', fn: '#d62728' };

interface Panel {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** Renders the figure and returns PNG bytes. */
export async function renderEvaluationPlot(series: readonly PlotSeries[], options: PlotOptions = {}): Promise<Buffer> {
  if (series.length === 0) throw new RangeError('plot needs at least one series');
  const width = options.width ?? 1500;
  const height = options.height ?? 950;
  const canvas = createCanvas(width, height);
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, width, height);

  const bins0 = series[0].evaluation.bins;
  const snrMax = options.snrMax ?? (bins0.length > 0 ? bins0[bins0.length - 1].snr_hi : 10);
  const top = 60;
  const legendH = 26 * Math.ceil(series.length / 3) + 30;
  const marginL = 80;
  const gapX = 70;
  const panelW = (width - marginL - 30 - 2 * gapX) / 3;
  const countsH = (height - top - legendH - 140) * 0.42;
  const metricsH = (height - top - legendH - 140) * 0.58;
  const rowTop = (row: number) => (row === 0 ? top : top + countsH + 70);
  const panel = (row: number, col: number): Panel => ({ x: marginL + col * (panelW + gapX), y: rowTop(row), w: panelW, h: row === 0 ? countsH : metricsH });

  ctx.fillStyle = '#000';
  ctx.font = 'bold 22px sans-serif';
  ctx.textAlign = 'center';
  ctx.fillText(options.title ?? 'DeepSource evaluation', width / 2, 32);

  // Counts (top row), log10(1 + n) scale.
  let maxCount = 1;
  for (const s of series) for (const b of s.evaluation.bins) maxCount = Math.max(maxCount, b.tp, b.fp, b.fn, b.tp_true);
  const countTop = Math.log10(1 + maxCount) * 1.05;
  const countKinds: Array<Array<{ key: 'tp' | 'fp' | 'fn' | 'tp_true'; colour: string; name: string }>> = [
    [{ key: 'tp', colour: COUNT_COLOURS.tp, name: 'TP' }, { key: 'fp', colour: COUNT_COLOURS.fp, name: 'FP' }],
    [{ key: 'tp_true', colour: COUNT_COLOURS.tp, name: 'TP' }, { key: 'fn', colour: COUNT_COLOURS.fn, name: 'FN' }],
    [
      { key: 'tp', colour: COUNT_COLOURS.tp, name: 'TP' },
      { key: 'fp', colour: COUNT_COLOURS.fp, name: 'FP' },
      { key: 'fn', colour: COUNT_COLOURS.fn, name: 'FN' },
    ],
  ];
  const countTitles = ['by detection SNR', 'by true SNR', 'TP, FP, FN'];
  for (let col = 0; col < 3; col++) {
    const p = panel(0, col);
    drawAxes(ctx, p, snrMax, 0, countTop, { xLabel: '', yLabel: col === 0 ? 'counts' : '', logCounts: true, title: countTitles[col] });
    series.forEach((s, si) => {
      for (const kind of countKinds[col]) {
        const points = s.evaluation.bins.map((b) => [centre(b), Math.log10(1 + b[kind.key])] as [number, number]);
        drawLine(ctx, p, points, snrMax, 0, countTop, kind.colour, dashOf(s, si), false);
      }
    });
    // colour key for the count kinds
    ctx.font = '13px sans-serif';
    ctx.textAlign = 'left';
    countKinds[col].forEach((kind, k) => {
      ctx.fillStyle = kind.colour;
      ctx.fillText(kind.name, p.x + p.w - 40, p.y + 18 + 16 * k);
    });
  }

  // Metrics (bottom row).
  const metricKeys: Array<{ key: 'purity' | 'completeness' | 'pc'; name: string }> = [
    { key: 'purity', name: 'Purity' },
    { key: 'completeness', name: 'Completeness' },
    { key: 'pc', name: 'Purity x Completeness' },
  ];
  for (let col = 0; col < 3; col++) {
    const p = panel(1, col);
    drawAxes(ctx, p, snrMax, 0, 1.05, { xLabel: 'SNR', yLabel: metricKeys[col].name, logCounts: false, title: '' });
    // 0.9 quality level
    ctx.save();
    ctx.strokeStyle = '#999';
    ctx.lineWidth = 1.5;
    const y90 = p.y + p.h - (0.9 / 1.05) * p.h;
    ctx.beginPath();
    ctx.moveTo(p.x, y90);
    ctx.lineTo(p.x + p.w, y90);
    ctx.stroke();
    ctx.restore();
    series.forEach((s, si) => {
      const colour = colourOf(s, si);
      const points = s.evaluation.bins
        .filter((b) => b[metricKeys[col].key] !== null)
        .map((b) => [centre(b), b[metricKeys[col].key] as number] as [number, number]);
      drawLine(ctx, p, points, snrMax, 0, 1.05, colour, dashOf(s, si), true);
      const s90 = s.evaluation.s90;
      if (s90 !== null && s90 <= snrMax) {
        ctx.save();
        ctx.strokeStyle = colour;
        ctx.setLineDash(dashOf(s, si).length ? dashOf(s, si) : [4, 3]);
        ctx.lineWidth = 1.5;
        const x = p.x + (s90 / snrMax) * p.w;
        ctx.beginPath();
        ctx.moveTo(x, p.y);
        ctx.lineTo(x, p.y + p.h);
        ctx.stroke();
        ctx.restore();
      }
    });
  }

  // Legend: one entry per series with colour, dash and S90 / PC3.
  ctx.font = '15px sans-serif';
  ctx.textAlign = 'left';
  const legendTop = height - legendH + 10;
  series.forEach((s, si) => {
    const colour = colourOf(s, si);
    const lx = marginL + (si % 3) * ((width - marginL) / 3);
    const ly = legendTop + 26 * Math.floor(si / 3);
    ctx.save();
    ctx.strokeStyle = colour;
    ctx.lineWidth = 2.5;
    ctx.setLineDash(dashOf(s, si));
    ctx.beginPath();
    ctx.moveTo(lx, ly);
    ctx.lineTo(lx + 40, ly);
    ctx.stroke();
    ctx.restore();
    ctx.fillStyle = '#000';
    const e = s.evaluation;
    ctx.fillText(`${s.label}: S90 ${e.s90 === null ? 'n/a' : e.s90.toFixed(2)}, PC3 ${fmt(e.pc['3'])}`, lx + 50, ly + 5);
  });

  return canvas.encode('png');
}

/** Renders and writes the PNG (temporary name, then rename). */
export async function writeEvaluationPlot(path: string, series: readonly PlotSeries[], options: PlotOptions = {}): Promise<void> {
  const png = await renderEvaluationPlot(series, options);
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, png);
  renameSync(tmp, path);
}

function centre(b: SnrBin): number {
  return (b.snr_lo + b.snr_hi) / 2;
}

function fmt(v: number | null | undefined): string {
  return v === null || v === undefined ? 'n/a' : v.toFixed(2);
}

function drawAxes(
  ctx: SKRSContext2D,
  p: Panel,
  xMax: number,
  yMin: number,
  yMax: number,
  opts: { xLabel: string; yLabel: string; logCounts: boolean; title: string },
): void {
  ctx.save();
  ctx.strokeStyle = '#000';
  ctx.lineWidth = 1;
  ctx.strokeRect(p.x, p.y, p.w, p.h);
  ctx.fillStyle = '#000';
  ctx.font = '13px sans-serif';
  // x ticks every 1 SNR
  ctx.textAlign = 'center';
  for (let t = 0; t <= xMax + 1e-9; t += xMax > 12 ? 2 : 1) {
    const x = p.x + (t / xMax) * p.w;
    ctx.beginPath();
    ctx.moveTo(x, p.y + p.h);
    ctx.lineTo(x, p.y + p.h - 5);
    ctx.stroke();
    ctx.fillText(String(t), x, p.y + p.h + 17);
  }
  // y ticks
  ctx.textAlign = 'right';
  const yTicks: Array<[number, string]> = [];
  if (opts.logCounts) {
    for (let decade = 0; Math.log10(1 + 10 ** decade) <= yMax || decade === 0; decade++) {
      yTicks.push([Math.log10(1 + 10 ** decade), decade === 0 ? '1' : `1e${decade}`]);
      if (decade > 8) break;
    }
    yTicks.unshift([0, '0']);
  } else {
    for (let t = 0; t <= 1.0001; t += 0.2) yTicks.push([t, t.toFixed(1)]);
  }
  for (const [v, label] of yTicks) {
    if (v > yMax) continue;
    const y = p.y + p.h - ((v - yMin) / (yMax - yMin)) * p.h;
    ctx.beginPath();
    ctx.moveTo(p.x, y);
    ctx.lineTo(p.x + 5, y);
    ctx.stroke();
    ctx.fillText(label, p.x - 6, y + 4);
  }
  ctx.textAlign = 'center';
  ctx.font = '15px sans-serif';
  if (opts.xLabel) ctx.fillText(opts.xLabel, p.x + p.w / 2, p.y + p.h + 38);
  if (opts.title) ctx.fillText(opts.title, p.x + p.w / 2, p.y - 8);
  if (opts.yLabel) {
    ctx.save();
    ctx.translate(p.x - 52, p.y + p.h / 2);
    ctx.rotate(-Math.PI / 2);
    ctx.fillText(opts.yLabel, 0, 0);
    ctx.restore();
  }
  ctx.restore();
}

function drawLine(
  ctx: SKRSContext2D,
  p: Panel,
  points: ReadonlyArray<[number, number]>,
  xMax: number,
  yMin: number,
  yMax: number,
  colour: string,
  dash: number[],
  markers: boolean,
): void {
  const inRange = points.filter(([x]) => x <= xMax);
  if (inRange.length === 0) return;
  const px = (x: number) => p.x + (x / xMax) * p.w;
  const py = (y: number) => p.y + p.h - ((Math.min(y, yMax) - yMin) / (yMax - yMin)) * p.h;
  ctx.save();
  ctx.strokeStyle = colour;
  ctx.fillStyle = colour;
  ctx.lineWidth = 2;
  ctx.setLineDash(dash);
  ctx.beginPath();
  inRange.forEach(([x, y], k) => (k === 0 ? ctx.moveTo(px(x), py(y)) : ctx.lineTo(px(x), py(y))));
  ctx.stroke();
  ctx.setLineDash([]);
  if (markers) {
    for (const [x, y] of inRange) {
      ctx.beginPath();
      ctx.arc(px(x), py(y), 3, 0, 2 * Math.PI);
      ctx.fill();
    }
  }
  ctx.restore();
}

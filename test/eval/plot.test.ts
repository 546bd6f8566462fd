import { loadImage, createCanvas } from '@napi-rs/canvas';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderEvaluationPlot, writeEvaluationPlot } from '../../src/eval/plot';
import { evaluateCatalogues } from '../../src/eval/metrics';
import type { ColumnTable } from '../../src/catalogue/table';

function table(columns: Record<string, number[]>): ColumnTable {
  return { columns: Object.fromEntries(Object.entries(columns).map(([k, v]) => [k, Float64Array.from(v)])), info: {}, metadata: {} };
}

// 40 sources at SNR 0.25..9.99; those above SNR 3 are found; 3 false detections at SNR ~1.
const snr = Array.from({ length: 40 }, (_, i) => 0.25 + i * 0.25);
const x = snr.map((_, i) => i * 20);
const found = snr.map((s, i) => [i, s] as const).filter(([, s]) => s >= 3);
const evaluation = evaluateCatalogues(
  [
    {
      imageId: 'a',
      truth: table({ x, y: x.map(() => 0), snr }),
      detections: table({ x: [...found.map(([i]) => x[i]), 5, 25, 45], y: [...found.map(() => 0), 50, 50, 50], snr: [...found.map(([, s]) => s), 1, 1.1, 1.2] }),
      beamArcsec: 3,
      pixelScaleArcsec: 1,
    },
  ],
  { space: 'pixel' },
);

async function pixels(png: Buffer): Promise<{ width: number; height: number; data: Uint8ClampedArray }> {
  const img = await loadImage(png);
  const canvas = createCanvas(img.width, img.height);
  const ctx = canvas.getContext('2d');
  ctx.drawImage(img, 0, 0);
  return { width: img.width, height: img.height, data: ctx.getImageData(0, 0, img.width, img.height).data };
}

function hasColour(data: Uint8ClampedArray, [r, g, b]: [number, number, number]): boolean {
  for (let i = 0; i < data.length; i += 4) if (Math.abs(data[i] - r) < 8 && Math.abs(data[i + 1] - g) < 8 && Math.abs(data[i + 2] - b) < 8) return true;
  return false;
}

describe('renderEvaluationPlot', () => {
  test('draws a PNG of the requested size with the series and count colours', async () => {
    expect(evaluation.s90).not.toBeNull();
    const png = await renderEvaluationPlot([{ label: 'DeepSource', evaluation }], { width: 900, height: 600 });
    expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    const img = await pixels(png);
    expect([img.width, img.height]).toEqual([900, 600]);
    expect(hasColour(img.data, [0x6a, 0x3d, 0x9a])).toBe(true); // first series (purple)
    expect(hasColour(img.data, [0x2c, 0xa0, 0x2c])).toBe(true); // TP green
    expect(hasColour(img.data, [0xff, 0x7f, 0x0e])).toBe(true); // FP orange
    expect(hasColour(img.data, [0xd6, 0x27, 0x28])).toBe(true); // FN red
    expect(hasColour(img.data, [0x1f, 0x78, 0xb4])).toBe(false); // no third series (blue)
  });

  test('further series get their own colours; the file is written by rename', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'plot-'));
    try {
      const path = join(dir, 'p.png');
      await writeEvaluationPlot(path, [{ label: 'A', evaluation }, { label: 'B', evaluation }, { label: 'C', evaluation }]);
      expect(readdirSync(dir)).toEqual(['p.png']);
      const img = await pixels(readFileSync(path));
      expect(hasColour(img.data, [0x1f, 0x78, 0xb4])).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('needs at least one series', async () => {
    await expect(renderEvaluationPlot([])).rejects.toThrow(/at least one series/);
  });
});

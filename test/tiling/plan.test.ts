import fc from 'fast-check';
import { UserInputError } from '../../src/core/errors';
import {
  DEFAULT_TILING_OPTIONS,
  RECEPTIVE_FIELD_RADIUS_PX,
  planTiles,
  resolveTilingOptions,
  type TilePlan,
} from '../../src/tiling/plan';

/** Every pixel in exactly one core; every window inside the image, ≤ tile, and = core ± overlap clipped. */
function planProblems(plan: TilePlan, tile: number, overlap: number): string[] {
  const problems: string[] = [];
  const cover = new Uint8Array(plan.width * plan.height);
  for (const t of plan.tiles) {
    const { core: c, window: w } = t;
    const expected = {
      x0: Math.max(0, c.x0 - overlap),
      y0: Math.max(0, c.y0 - overlap),
      x1: Math.min(plan.width, c.x1 + overlap),
      y1: Math.min(plan.height, c.y1 + overlap),
    };
    if (JSON.stringify(w) !== JSON.stringify(expected)) problems.push(`tile ${t.index}: window ${JSON.stringify(w)} != ${JSON.stringify(expected)}`);
    if (w.x1 - w.x0 > Math.min(tile, plan.width) || w.y1 - w.y0 > Math.min(tile, plan.height)) problems.push(`tile ${t.index}: window larger than tile`);
    for (let y = c.y0; y < c.y1; y++) for (let x = c.x0; x < c.x1; x++) cover[y * plan.width + x]++;
  }
  const badPixel = cover.findIndex((n) => n !== 1);
  if (badPixel >= 0) problems.push(`pixel ${badPixel} covered ${cover[badPixel]} times`);
  if (plan.tiles.length !== plan.rows * plan.columns) problems.push('tile count != rows × columns');
  return problems;
}

function checkPlan(plan: TilePlan, tile: number, overlap: number): void {
  expect(planProblems(plan, tile, overlap)).toEqual([]);
}

describe('resolveTilingOptions', () => {
  it('fills defaults and freezes them', () => {
    const r = resolveTilingOptions({ workers: 2 });
    expect(r).toEqual({ tile: DEFAULT_TILING_OPTIONS.tile, overlap: DEFAULT_TILING_OPTIONS.overlap, workers: 2, maxQueue: DEFAULT_TILING_OPTIONS.maxQueue });
    expect(Object.isFrozen(r)).toBe(true);
    expect(Object.isFrozen(DEFAULT_TILING_OPTIONS)).toBe(true);
    expect(resolveTilingOptions().workers).toBeGreaterThanOrEqual(1);
  });

  it('rejects an overlap smaller than the receptive field with the exact message', () => {
    expect(RECEPTIVE_FIELD_RADIUS_PX).toBe(12);
    expect(() => resolveTilingOptions({ overlap: 4 })).toThrow(UserInputError);
    expect(() => resolveTilingOptions({ overlap: 4 })).toThrow('tile overlap must be >= 12 px (receptive field), got 4');
    expect(() => resolveTilingOptions({ overlap: 12, workers: 1 })).not.toThrow();
  });

  it('rejects --workers 0 for the CLI but allows the serial path on request', () => {
    expect(() => resolveTilingOptions({ workers: 0 })).toThrow(/^workers must be >= 1, got 0$/);
    expect(() => resolveTilingOptions({ workers: -3 })).toThrow(/workers must be >= 1, got -3/);
    expect(resolveTilingOptions({ workers: 0 }, { allowSerial: true }).workers).toBe(0);
  });

  it('rejects tiles that keep nothing and non-integers', () => {
    expect(() => resolveTilingOptions({ tile: 32, overlap: 16 })).toThrow(/tile must be > 2 × overlap \(32 px\).*got 32/);
    expect(() => resolveTilingOptions({ tile: 100.5 })).toThrow(/tile must be an integer, got 100.5/);
    expect(() => resolveTilingOptions({ maxQueue: -1, workers: 1 })).toThrow(/maxQueue must be >= 0, got -1/);
  });
});

describe('planTiles', () => {
  it('splits 100 px with tile 40 / overlap 12 into seven even cores (hand-worked)', () => {
    // 6 cores of ~16.7 px would give an interior window of 17 + 24 = 41 > 40, so 7 cores.
    const plan = planTiles(100, 30, { tile: 40, overlap: 12 });
    expect(plan.columns).toBe(7);
    expect(plan.rows).toBe(1);
    expect(plan.tiles.map((t) => [t.core.x0, t.core.x1])).toEqual([
      [0, 14], [14, 29], [29, 43], [43, 57], [57, 71], [71, 86], [86, 100],
    ]);
    expect(plan.tiles[1].window).toEqual({ x0: 2, y0: 0, x1: 41, y1: 30 });
    // The last tile ends on the image edge.
    expect(plan.tiles[6].window.x1).toBe(100);
    checkPlan(plan, 40, 12);
  });

  it('uses one tile for an image smaller than a tile, with a clamping warning', () => {
    const plan = planTiles(50, 37, { tile: 1024, overlap: 16 });
    expect(plan.tiles).toHaveLength(1);
    expect(plan.tiles[0].core).toEqual({ x0: 0, y0: 0, x1: 50, y1: 37 });
    expect(plan.tiles[0].window).toEqual(plan.tiles[0].core);
    expect(plan.warnings.join(' ')).toMatch(/tile 1024 px is larger than the 50×37 image; clamped to 50×37/);
  });

  it('warns when the overlap is larger than the image and still plans one tile', () => {
    const plan = planTiles(20, 400, { tile: 100, overlap: 30 });
    expect(plan.columns).toBe(1);
    expect(plan.warnings.join(' ')).toMatch(/overlap 30 px is not smaller than the 20×400 image/);
    checkPlan(plan, 100, 30);
  });

  it('has no warnings when the tile fits', () => {
    expect(planTiles(4096, 4096, { tile: 1024, overlap: 16 }).warnings).toEqual([]);
  });

  it('plans 4096² with 1024 tiles as 5×5 tiles of at most 1024 px', () => {
    const plan = planTiles(4096, 4096, { tile: 1024, overlap: 16 });
    expect([plan.columns, plan.rows]).toEqual([5, 5]);
    checkPlan(plan, 1024, 16);
  });

  it('rejects an empty image', () => {
    expect(() => planTiles(0, 10, { tile: 64, overlap: 12 })).toThrow(/image must be at least 1×1 px, got 0×10/);
  });

  it('always partitions the image into cores with bounded windows (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 300 }),
        fc.integer({ min: 1, max: 300 }),
        fc.integer({ min: 12, max: 40 }),
        fc.integer({ min: 1, max: 120 }),
        (width, height, overlap, extra) => {
          const tile = 2 * overlap + extra;
          return planProblems(planTiles(width, height, { tile, overlap }), tile, overlap).length === 0;
        },
      ),
      { numRuns: 150 },
    );
  });
});

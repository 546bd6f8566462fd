import { fft2d } from '../../src/core/fft';
import { planSimulation, resolveSimulationOptions, simulateImage, type ImagePlan, type SimulationOptions } from '../../src/sim/simulate';
import { Random } from '../../src/core/random';
import { psfAndNoise } from '../../src/sim/imaging';
import { uvCoverage } from '../../src/sim/uv';
import { applyWeighting, gridCounts } from '../../src/sim/weighting';
import { ARCSEC, PAPER_OBSERVATION, interpolatedPeak, meerkat } from './helpers';

const layout = meerkat();

function run(options: SimulationOptions, seed: number, count = 1) {
  const o = resolveSimulationOptions(options);
  return planSimulation(o, count, seed).map((plan) => simulateImage(plan, o, layout));
}

/** A plan with one source at a chosen sub-pixel position and SNR. */
function singleSourcePlan(options: SimulationOptions, x: number, y: number, snr: number): { plan: ImagePlan; o: ReturnType<typeof resolveSimulationOptions> } {
  const o = resolveSimulationOptions({ ...options, sourcesPerDeg2: 0 });
  const base = planSimulation(o, 1, 99)[0];
  const plan: ImagePlan = {
    ...base,
    sources: { x: Float64Array.of(x), y: Float64Array.of(y), raDeg: Float64Array.of(base.raDeg), decDeg: Float64Array.of(base.decDeg) },
    snr: Float64Array.of(snr),
  };
  return { plan, o };
}

describe('simulateImage: noise', () => {
  it.each(['natural', 'uniform'] as const)('%s: border std of the final image is within 5%% of the theoretical noise (rms over 4 images)', (kind) => {
    const images = run({ size: 512, weighting: { kind }, field: 'same' }, 21, 4);
    let ratio2 = 0;
    for (const img of images) ratio2 += (img.finalBorderStd / img.theoreticalNoise) ** 2;
    const ratio = Math.sqrt(ratio2 / images.length);
    expect(ratio).toBeGreaterThan(0.95);
    expect(ratio).toBeLessThan(1.05);
  });

  it.each([
    ['natural', 0.8, 1.25],
    ['uniform', 0.6, 1.4],
  ] as const)('%s: noise autocorrelation has the width of the PSF main lobe, not one pixel', (kind, lo, hi) => {
    const size = 512;
    const [img] = run({ size, weighting: { kind }, field: 'same', sourcesPerDeg2: 0, clean: false }, 5);
    const re = Float64Array.from(img.image.data);
    const im = new Float64Array(size * size);
    fft2d(re, im, size, size);
    for (let i = 0; i < re.length; i++) {
      re[i] = re[i] * re[i] + im[i] * im[i];
      im[i] = 0;
    }
    fft2d(re, im, size, size, true);
    // The PSF of the same observation, measured the same way (half-power full width along x and y).
    const coverage = uvCoverage(layout, { decDeg: -20, ...PAPER_OBSERVATION });
    const grid = gridCounts(coverage, size, 1.5 * ARCSEC);
    const { psf } = psfAndNoise(grid, applyWeighting(grid, { kind }), 1, new Random(1));
    const centre = (size / 2) * size + size / 2;
    const acX = halfPowerWidth(re, 0, 1);
    const acY = halfPowerWidth(re, 0, size);
    const psfX = halfPowerWidth(psf, centre, 1);
    const psfY = halfPowerWidth(psf, centre, size);
    // White noise would give ~1 px; correlated noise is several pixels wide.
    expect(Math.min(acX, acY)).toBeGreaterThan(2.5);
    // Natural weighting: the noise power spectrum is W, so the autocorrelation IS the PSF (up to
    // sampling noise of one 512^2 realisation, ~5%). Other weightings have spectrum W^2/N: a
    // somewhat narrower autocorrelation than the PSF, hence the wider bounds.
    for (const ratio of [acX / psfX, acY / psfY]) {
      expect(ratio).toBeGreaterThan(lo);
      expect(ratio).toBeLessThan(hi);
    }
  });
});

/** Full width at half maximum of a profile starting at `origin` and stepping by `step` (linear interpolation). */
function halfPowerWidth(data: Float64Array, origin: number, step: number): number {
  const zero = data[origin];
  let lag = 1;
  while (data[origin + lag * step] / zero > 0.5) lag++;
  const a = data[origin + (lag - 1) * step] / zero;
  const b = data[origin + lag * step] / zero;
  return 2 * (lag - 1 + (a - 0.5) / (a - b));
}

describe('simulateImage: sources', () => {
  it.each([
    ['natural', true],
    ['natural', false],
    ['uniform', true],
    ['uniform', false],
  ] as const)('%s, clean=%s: a bright isolated source recovers its flux within 5%%', (kind, clean) => {
    const [sx, sy] = [120.37, 131.62];
    const { plan, o } = singleSourcePlan({ size: 256, weighting: { kind }, field: 'same', clean }, sx, sy, 200);
    const img = simulateImage(plan, o, layout);
    const flux = img.truth.flux_jy[0];
    expect(flux).toBeCloseTo(200 * img.fluxScale, 12);
    expect(img.truth.snr_injected[0]).toBe(200);
    expect(img.truth.snr[0]).toBeCloseTo(flux / img.finalBorderStd, 12);
    const peak = interpolatedPeak(img.image.data, 256, sx, sy);
    expect(Math.abs(peak.value / flux - 1)).toBeLessThan(0.05);
    // It sits where we put it, not on the nearest pixel (which is 0.37 and 0.38 px away). The dirty
    // image is exact (PSF shifted through the uv plane); CLEAN components sit on pixels, so the
    // restored peak is looser.
    const tol = clean ? 0.2 : 0.1;
    expect(Math.abs(peak.x - sx)).toBeLessThan(tol);
    expect(Math.abs(peak.y - sy)).toBeLessThan(tol);
  });

  it('records flux = injected SNR x flux scale, snr = flux / final border std, and keeps every source out of the border', () => {
    const [img] = run({ size: 512, weighting: { kind: 'uniform' }, field: 'different', sourcesPerDeg2: 2000, minSeparationArcsec: 40, clean: false }, 8);
    const n = img.truth.snr.length;
    expect(n).toBeGreaterThan(50);
    for (let i = 0; i < n; i++) {
      expect(img.truth.flux_jy[i]).toBeCloseTo(img.truth.snr_injected[i] * img.fluxScale, 15);
      expect(img.truth.snr[i]).toBeCloseTo(img.truth.flux_jy[i] / img.finalBorderStd, 10);
      expect(img.truth.x[i]).toBeGreaterThanOrEqual(51);
      expect(img.truth.x[i]).toBeLessThanOrEqual(512 - 1 - 51);
      expect(img.truth.y[i]).toBeGreaterThanOrEqual(51);
      expect(img.truth.y[i]).toBeLessThanOrEqual(512 - 1 - 51);
    }
  });

  it("snrReference 'final': the truth SNR of the written image equals the injected SNR to 1%; 'noise': flux scale = noise-only std", () => {
    for (const kind of ['natural', 'uniform'] as const) {
      const [img] = run({ size: 512, weighting: { kind }, field: 'same', sourcesPerDeg2: 1000 }, 31);
      // The second pass moves the border std only through the sources' sidelobes.
      for (let i = 0; i < img.truth.snr.length; i++) expect(Math.abs(img.truth.snr[i] / img.truth.snr_injected[i] - 1)).toBeLessThan(0.01);
      const [raw] = run({ size: 512, weighting: { kind }, field: 'same', sourcesPerDeg2: 1000, snrReference: 'noise' }, 31);
      expect(raw.fluxScale).toBe(raw.noiseStd);
      expect(raw.truth.snr_injected).toEqual(img.truth.snr_injected);
    }
  });

  it('the input catalogues have 45 +- 5% of sources below SNR 1 (paper Fig. 1), at least 40" apart', () => {
    const o = resolveSimulationOptions({ size: 2048, field: 'different' });
    const plans = planSimulation(o, 10, 4);
    let below = 0;
    let total = 0;
    let minSepArcsec = Infinity;
    for (const p of plans) {
      for (let i = 0; i < p.snr.length; i++) {
        total++;
        if (p.snr[i] < 1) below++;
        for (let j = 0; j < i; j++) minSepArcsec = Math.min(minSepArcsec, Math.hypot(p.sources.x[i] - p.sources.x[j], p.sources.y[i] - p.sources.y[j]) * 1.5);
      }
    }
    expect(minSepArcsec).toBeGreaterThanOrEqual(40);
    expect(total).toBeGreaterThan(1000);
    expect(below / total).toBeGreaterThan(0.4);
    expect(below / total).toBeLessThan(0.5);
  });

  it('different-field centres stay in the paper box; same-field is RA 50, Dec -20', () => {
    const diff = planSimulation(resolveSimulationOptions({ size: 256, field: 'different' }), 50, 1);
    for (const p of diff) {
      expect(p.raDeg).toBeGreaterThan(10);
      expect(p.raDeg).toBeLessThan(110);
      expect(p.decDeg).toBeGreaterThan(-70);
      expect(p.decDeg).toBeLessThan(30);
    }
    const same = planSimulation(resolveSimulationOptions({ size: 256, field: 'same' }), 2, 1);
    expect(same.map((p) => [p.raDeg, p.decDeg])).toEqual([
      [50, -20],
      [50, -20],
    ]);
  });
});

describe('simulateImage: determinism', () => {
  it('same seed gives the same pixels and catalogue; another seed does not', () => {
    const a = run({ size: 256, weighting: { kind: 'natural' } }, 17)[0];
    const b = run({ size: 256, weighting: { kind: 'natural' } }, 17)[0];
    const c = run({ size: 256, weighting: { kind: 'natural' } }, 18)[0];
    expect(Buffer.from(a.image.data.buffer).equals(Buffer.from(b.image.data.buffer))).toBe(true);
    expect(Array.from(a.truth.ra_deg)).toEqual(Array.from(b.truth.ra_deg));
    expect(Buffer.from(a.image.data.buffer).equals(Buffer.from(c.image.data.buffer))).toBe(false);
  });
});

describe('simulateImage: sizes that are not powers of two', () => {
  it.each([200, 201])('size %i (uv grid padded to 256, image cropped around the phase centre): sources land where the WCS says', (size) => {
    const [sx, sy] = [90.3, 110.6];
    const { plan, o } = singleSourcePlan({ size, weighting: { kind: 'uniform' }, field: 'same', clean: false, borderPx: 20 }, sx, sy, 300);
    const img = simulateImage(plan, o, layout);
    expect(img.image.width).toBe(size);
    expect(img.uv.gridSize).toBe(256);
    const peak = interpolatedPeak(img.image.data, size, sx, sy);
    expect(Math.abs(peak.x - sx)).toBeLessThan(0.1);
    expect(Math.abs(peak.y - sy)).toBeLessThan(0.1);
    expect(Math.abs(peak.value / img.truth.flux_jy[0] - 1)).toBeLessThan(0.05);
    const crpix = img.cards.find((c) => c.key === 'CRPIX1')?.value;
    expect(crpix).toBe(Math.floor(size / 2) + 1);
  });
});

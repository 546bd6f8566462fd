/**
 * The MeerKAT image simulator (paper section 2, 2.1, 2.2 and Table 1), as pure computation:
 * `planSimulation` draws field centres and input catalogues for every image up front (so a bad
 * request fails before anything is written), `simulateImage` makes one image. File writing lives in
 * the CLI (src/cli/commands/simulate.ts).
 *
 * Per image: uv tracks for the field's declination -> gridded counts -> weights (natural, uniform,
 * Briggs) -> PSF and correlated noise (one FFT) -> noise level from the source-free border ->
 * fluxes = SNR x noise -> sources through the uv plane -> dirty image -> Hogbom CLEAN with exact
 * major cycles + Gaussian restoring beam (default) -> image, truth, header cards.
 *
 * Simplifications (documented, not hidden): no w-term, no primary beam, no elevation limits or
 * shadowing; nearest-cell gridding on a grid padded to a power of two, so the sky is periodic on
 * that grid (as an FFT imager without anti-aliasing would see it); point sources (the paper's 3"
 * sources are "effectively point-like", section 2).
 */
import { UserInputError, describeValue } from '../core/errors';
import { nextPowerOfTwo } from '../core/fft';
import type { Image } from '../core/image';
import { Random } from '../core/random';
import type { FitsCard } from '../fits/types';
import { Wcs } from '../fits/wcs';
import { headerFromCards } from '../fits/header';
import { sinWcsCards } from '../fits/wcs';
import type { ArrayLayout } from './array';
import { fitBeam, type FittedBeam } from './beam-fit';
import { DEFAULT_CLEAN_OPTIONS, hogbomClean, restore } from './clean';
import { cropCentre, psfAndNoise, renderPointSources } from './imaging';
import { borderNoiseStd } from './noise-stats';
import { checkSeparationFeasible, drawSnrs, placeSources, type CoreRegion, type PlacedSources } from './sources';
import { uvCoverage } from './uv';
import { applyWeighting, describeWeighting, gridCounts, theoreticalImageNoise, type Weighting } from './weighting';

export type FieldMode = 'different' | 'same';

export interface SimulationOptions {
  /** Image side, pixels (paper: 4096). */
  size?: number;
  /** Pixel scale, arcsec (paper: 1.5). */
  pixelScaleArcsec?: number;
  weighting?: Weighting;
  /** 'different': random centres in the paper's RA/Dec box; 'same': RA 50, Dec -20. */
  field?: FieldMode;
  /** Source density in the core (paper: 300 per square degree). */
  sourcesPerDeg2?: number;
  /** Minimum source separation, arcsec (paper: 40). */
  minSeparationArcsec?: number;
  /** Source-free border width, pixels; default 10% of the size (paper: a 1 deg core in a 1.25 deg image). */
  borderPx?: number;
  /** SNR distribution: snrMin + exponential, with this fraction below SNR 1 (paper Fig. 1: 0.1, 0.45). */
  snrMin?: number;
  fractionBelowSnr1?: number;
  clean?: boolean;
  cleanIterations?: number;
  cleanGain?: number;
  cleanThresholdSigma?: number;
  /** Half-width of the PSF window CLEAN subtracts in minor cycles, pixels (major cycles are exact). */
  cleanWindowPx?: number;
  /** Fraction of the peak removed per minor cycle before an exact major cycle (WSClean -mgain). */
  cleanMajorGain?: number;
  /**
   * Which border std turns SNR into flux: 'final' (default) the final image's, so that the truth
   * SNR matches the image (two passes when CLEAN changes the border noise); 'noise' the noise-only
   * image's (one pass).
   */
  snrReference?: 'final' | 'noise';
  synthesisHours?: number;
  integrationSeconds?: number;
  centreFrequencyHz?: number;
  channelWidthHz?: number;
  channels?: number;
  /** Visibility noise (Jy) per real/imaginary part of one 300 s x 2.0898 MHz Stokes-I sample (paper Table 1: 1e-4). */
  visNoiseJy?: number;
  sameFieldRaDeg?: number;
  sameFieldDecDeg?: number;
}

export type ResolvedSimulationOptions = Required<Omit<SimulationOptions, 'borderPx'>> & { borderPx: number };

export const DEFAULT_SIMULATION_OPTIONS: Readonly<Required<Omit<SimulationOptions, 'borderPx'>>> = Object.freeze({
  size: 4096,
  pixelScaleArcsec: 1.5,
  weighting: Object.freeze({ kind: 'natural' }) as Weighting,
  field: 'different',
  sourcesPerDeg2: 300,
  minSeparationArcsec: 40,
  snrMin: 0.1,
  fractionBelowSnr1: 0.45,
  clean: true,
  cleanIterations: DEFAULT_CLEAN_OPTIONS.iterations,
  cleanGain: DEFAULT_CLEAN_OPTIONS.gain,
  cleanThresholdSigma: DEFAULT_CLEAN_OPTIONS.thresholdSigma,
  cleanWindowPx: DEFAULT_CLEAN_OPTIONS.windowHalf,
  cleanMajorGain: DEFAULT_CLEAN_OPTIONS.majorGain,
  snrReference: 'final',
  synthesisHours: 1,
  integrationSeconds: 300,
  centreFrequencyHz: 1.4e9,
  channelWidthHz: 2.0898e6,
  channels: 10,
  visNoiseJy: 1e-4,
  sameFieldRaDeg: 50,
  sameFieldDecDeg: -20,
});

/** The paper's Different-Field box (section 2): 10 < RA < 110, -70 < Dec < 30 degrees. */
export const DIFFERENT_FIELD_BOX = Object.freeze({ raMin: 10, raMax: 110, decMin: -70, decMax: 30 });

/** Reference sample of the visibility noise figure: 5 min x 2.0898 MHz (paper Table 1). */
const REFERENCE_INTEGRATION_S = 300;
const REFERENCE_CHANNEL_HZ = 2.0898e6;

function requireNumber(name: string, value: number, test: (v: number) => boolean, expected: string): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || !test(value)) throw new UserInputError(`${name} must be ${expected}, got ${describeValue(value)}`);
}

export function resolveSimulationOptions(options: SimulationOptions = {}): ResolvedSimulationOptions {
  const o = { ...DEFAULT_SIMULATION_OPTIONS, ...stripUndefined(options) } as ResolvedSimulationOptions;
  requireNumber('size', o.size, (v) => Number.isInteger(v) && v >= 32 && v <= 32768, 'an integer from 32 to 32768');
  requireNumber('pixel scale', o.pixelScaleArcsec, (v) => v > 0 && v <= 3600, 'a positive number of arcsec');
  requireNumber('sources per deg2', o.sourcesPerDeg2, (v) => v >= 0, '>= 0');
  requireNumber('minimum separation', o.minSeparationArcsec, (v) => v >= 0, '>= 0 arcsec');
  requireNumber('snr minimum', o.snrMin, (v) => v >= 0 && v < 1, 'in [0, 1)');
  requireNumber('fraction below SNR 1', o.fractionBelowSnr1, (v) => v > 0 && v < 1, 'in (0, 1)');
  requireNumber('clean iterations', o.cleanIterations, (v) => Number.isInteger(v) && v >= 0, 'an integer >= 0');
  requireNumber('clean gain', o.cleanGain, (v) => v > 0 && v <= 1, 'in (0, 1]');
  requireNumber('clean threshold', o.cleanThresholdSigma, (v) => v >= 0, '>= 0 (sigma)');
  requireNumber('clean major gain', o.cleanMajorGain, (v) => v > 0 && v <= 1, 'in (0, 1]');
  requireNumber('clean window', o.cleanWindowPx, (v) => Number.isInteger(v) && v >= 1, 'an integer >= 1 px');
  requireNumber('synthesis time', o.synthesisHours, (v) => v > 0 && v <= 24, 'in (0, 24] hours');
  requireNumber('integration time', o.integrationSeconds, (v) => v > 0 && v <= o.synthesisHours * 3600, `in (0, ${o.synthesisHours * 3600}] seconds`);
  requireNumber('centre frequency', o.centreFrequencyHz, (v) => v > 0, 'a positive frequency in Hz');
  requireNumber('channel width', o.channelWidthHz, (v) => v > 0 && v < o.centreFrequencyHz, 'positive and below the centre frequency');
  requireNumber('channels', o.channels, (v) => Number.isInteger(v) && v >= 1 && v <= 4096, 'an integer from 1 to 4096');
  requireNumber('visibility noise', o.visNoiseJy, (v) => v > 0, 'a positive number of Jy');
  requireNumber('same-field RA', o.sameFieldRaDeg, () => true, 'a number of degrees');
  requireNumber('same-field Dec', o.sameFieldDecDeg, (v) => v >= -90 && v <= 90, 'in [-90, 90] degrees');
  if (o.snrReference !== 'final' && o.snrReference !== 'noise') throw new UserInputError(`SNR reference must be final or noise, got ${describeValue(o.snrReference)}`);
  if (o.field !== 'different' && o.field !== 'same') throw new UserInputError(`field must be different or same, got ${describeValue(o.field)}`);
  const w = o.weighting;
  if (!w || (w.kind !== 'natural' && w.kind !== 'uniform' && w.kind !== 'briggs')) throw new UserInputError(`weighting must be natural, uniform or briggs:R, got ${describeValue(w)}`);
  if (w.kind === 'briggs') requireNumber('Briggs robust', w.robust, (v) => v >= -5 && v <= 5, 'in [-5, 5]');
  const border = options.borderPx ?? Math.round(0.1 * o.size);
  requireNumber('border', border, (v) => Number.isInteger(v) && v >= 1 && 2 * v < o.size - 1, `an integer from 1 to ${Math.floor((o.size - 2) / 2)} px (less than half the size)`);
  o.borderPx = border;
  return o;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Parses natural | uniform | briggs:R (R a number). */
export function parseWeighting(text: string): Weighting {
  const t = text.trim().toLowerCase();
  if (t === 'natural') return { kind: 'natural' };
  if (t === 'uniform') return { kind: 'uniform' };
  const m = /^briggs[:=](.+)$/.exec(t);
  if (m) {
    const robust = Number(m[1]);
    if (m[1].trim() !== '' && Number.isFinite(robust)) return { kind: 'briggs', robust };
  }
  throw new UserInputError(`--weighting must be natural, uniform or briggs:R (e.g. briggs:0.5), got ${describeValue(text)}`);
}

/** Source-free core: source centres at least borderPx from every edge. */
export function coreRegion(o: ResolvedSimulationOptions): CoreRegion {
  return { lo: o.borderPx, hiX: o.size - 1 - o.borderPx, hiY: o.size - 1 - o.borderPx };
}

/** Number of sources per image: density x core area (paper: 300 per deg^2). */
export function sourcesPerImage(o: ResolvedSimulationOptions): number {
  const core = coreRegion(o);
  const sideDeg = ((core.hiX - core.lo) * o.pixelScaleArcsec) / 3600;
  return Math.round(o.sourcesPerDeg2 * sideDeg * sideDeg);
}

/** Seed of image `index` of a run with seed `seed` (splitmix-style mixing; streams do not overlap). */
export function imageSeed(seed: number, index: number, stream: number): number {
  let z = (Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(index + 1, 0x85ebca6b) ^ Math.imul(stream + 1, 0xc2b2ae35)) >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x7feb352d) >>> 0;
  z = Math.imul(z ^ (z >>> 15), 0x846ca68b) >>> 0;
  return (z ^ (z >>> 16)) >>> 0;
}

export interface ImagePlan {
  index: number;
  seed: number;
  raDeg: number;
  decDeg: number;
  /** WCS cards (SIN, centre on pixel (floor(size/2), floor(size/2)), the phase centre). */
  wcsCards: FitsCard[];
  sources: PlacedSources;
  snr: Float64Array;
}

/** WCS cards for a field: SIN projection with the phase centre on pixel floor(size/2) (0-based). */
export function fieldWcsCards(raDeg: number, decDeg: number, o: ResolvedSimulationOptions): FitsCard[] {
  const cards = sinWcsCards({ raDeg, decDeg, cdeltDeg: o.pixelScaleArcsec / 3600, width: o.size, height: o.size });
  const centre = Math.floor(o.size / 2) + 1;
  return cards.map((c) => (c.key === 'CRPIX1' || c.key === 'CRPIX2' ? { ...c, value: centre, comment: 'phase centre (FITS 1-based)' } : c));
}

/** Draws centres and input catalogues for `count` images; throws UserInputError before any work if impossible. */
export function planSimulation(options: ResolvedSimulationOptions, count: number, seed: number): ImagePlan[] {
  const core = coreRegion(options);
  const nSources = sourcesPerImage(options);
  const minSepPx = options.minSeparationArcsec / options.pixelScaleArcsec;
  checkSeparationFeasible(nSources, core, minSepPx);
  const plans: ImagePlan[] = [];
  for (let index = 0; index < count; index++) {
    const s = imageSeed(seed, index, 0);
    const rng = new Random(s);
    let raDeg = options.sameFieldRaDeg;
    let decDeg = options.sameFieldDecDeg;
    if (options.field === 'different') {
      raDeg = rng.range(DIFFERENT_FIELD_BOX.raMin, DIFFERENT_FIELD_BOX.raMax);
      decDeg = rng.range(DIFFERENT_FIELD_BOX.decMin, DIFFERENT_FIELD_BOX.decMax);
    }
    const wcsCards = fieldWcsCards(raDeg, decDeg, options);
    const wcs = Wcs.fromHeader(headerFromCards(wcsCards), 'simulated field');
    const sources = placeSources(nSources, core, minSepPx, wcs, rng);
    const snr = drawSnrs(nSources, options.snrMin, options.fractionBelowSnr1, rng);
    plans.push({ index, seed: s, raDeg, decDeg, wcsCards, sources, snr });
  }
  return plans;
}

export interface SimulatedImage {
  image: Image;
  beam: FittedBeam;
  /** BMAJ/BMIN/BPA in degrees. */
  bmajDeg: number;
  bminDeg: number;
  bpaDeg: number;
  /** Std of the source-free border of the noise-only image (Jy/beam). */
  noiseStd: number;
  /** Jy per unit of injected SNR: flux_jy = snr_injected x this (noiseStd, or the final border std). */
  fluxScale: number;
  /** Std of the border of the final image (what a user measures). */
  finalBorderStd: number;
  /** Image noise predicted from the visibility noise and the weights. */
  theoreticalNoise: number;
  truth: {
    x: Float64Array;
    y: Float64Array;
    ra_deg: Float64Array;
    dec_deg: Float64Array;
    flux_jy: Float64Array;
    /**
     * SNR as CONTRACT.md defines it: the noise-free image value at the source (= flux, the PSF and
     * restoring beam peak at 1) over the std of the final image's source-free border.
     */
    snr: Float64Array;
    /** The SNR drawn from the paper's distribution (Fig. 1): flux / fluxScale. */
    snr_injected: Float64Array;
    /** Final image value at the nearest pixel / final border std. */
    snr_measured: Float64Array;
  };
  clean: { iterations: number; majorCycles: number; components: number; threshold: number; stopped: string } | null;
  /**
   * uv sampling. bandFraction = largest sampled |k| / grid size: the source rendering (NUFFT with
   * the ES kernel) is accurate to ~1e-11 of the peak at 0.25 (1.5" pixels at 1.4 GHz), 1e-6 at
   * 0.4 and 1e-4 at 0.47; visibilities beyond 0.5 are dropped (pixels too coarse for the array).
   */
  uv: { visibilities: number; dropped: number; sampledCells: number; maxUvWavelengths: number; gridSize: number; bandFraction: number };
  cards: FitsCard[];
}

/** Makes one image from its plan. `onStage` reports progress within the image. */
export function simulateImage(plan: ImagePlan, options: ResolvedSimulationOptions, layout: ArrayLayout, onStage?: (stage: string) => void): SimulatedImage {
  const o = options;
  const n = o.size;
  const gridSize = nextPowerOfTwo(n);
  const pixelRad = ((o.pixelScaleArcsec / 3600) * Math.PI) / 180;
  onStage?.('uv');
  const coverage = uvCoverage(layout, { decDeg: plan.decDeg, ...o });
  const grid = gridCounts(coverage, gridSize, pixelRad);
  const weights = applyWeighting(grid, o.weighting);
  if (weights.cells === 0) throw new UserInputError(`no visibilities fall on the uv grid: the pixel scale ${o.pixelScaleArcsec}" is too coarse for the shortest baseline`);
  const sigmaVis = o.visNoiseJy * Math.sqrt((REFERENCE_INTEGRATION_S * REFERENCE_CHANNEL_HZ) / (o.integrationSeconds * o.channelWidthHz));
  const theoreticalNoise = theoreticalImageNoise(weights, sigmaVis);

  onStage?.('psf');
  const noiseRng = new Random(imageSeed(plan.seed, plan.index, 1));
  const pn = psfAndNoise(grid, weights, sigmaVis, noiseRng);
  const noiseCrop = cropCentre(pn.noise, gridSize, n, n);
  const noiseStd = borderNoiseStd(noiseCrop.data, n, n, o.borderPx);
  const beam = fitBeam(pn.psf, gridSize, gridSize, gridSize / 2, gridSize / 2);

  // Paper section 2: SNR = pixel flux / border noise, so flux = SNR x noise (a point source's
  // peak equals its flux because the PSF peak is 1).
  const count = plan.snr.length;

  // Sources per unit of noise (flux = SNR), rendered once; the flux scale is applied below.
  onStage?.('sources');
  const gx = new Float64Array(count);
  const gy = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    gx[i] = plan.sources.x[i] + noiseCrop.offsetX;
    gy[i] = plan.sources.y[i] + noiseCrop.offsetY;
  }
  const skyPerSnr = count > 0 ? cropCentre(renderPointSources(weights, gx, gy, plan.snr), gridSize, n, n).data : null;

  // Major cycles: the model goes through the same uv weights as the sources (exact PSF).
  const convolve = (components: Map<number, number>): Float64Array => {
    const cx = new Float64Array(components.size);
    const cy = new Float64Array(components.size);
    const cf = new Float64Array(components.size);
    let k = 0;
    for (const [index, value] of components) {
      const px = index % n;
      cx[k] = px + noiseCrop.offsetX;
      cy[k] = (index - px) / n + noiseCrop.offsetY;
      cf[k++] = value;
    }
    return cropCentre(renderPointSources(weights, cx, cy, cf), gridSize, n, n).data;
  };
  /** Dirty image with fluxes = SNR x fluxScale, CLEANed and restored when asked. */
  const produce = (fluxScale: number): { final: Float64Array; clean: SimulatedImage['clean']; borderStd: number } => {
    const dirty = noiseCrop.data.slice();
    if (skyPerSnr !== null) for (let i = 0; i < dirty.length; i++) dirty[i] += fluxScale * skyPerSnr[i];
    if (!(o.clean && o.cleanIterations > 0)) return { final: dirty, clean: null, borderStd: borderNoiseStd(dirty, n, n, o.borderPx) };
    onStage?.('clean');
    const result = hogbomClean(
      dirty,
      n,
      n,
      pn.psf,
      gridSize,
      { iterations: o.cleanIterations, gain: o.cleanGain, thresholdSigma: o.cleanThresholdSigma, windowHalf: o.cleanWindowPx, majorGain: o.cleanMajorGain },
      convolve,
    );
    const final = restore(result.residual, n, n, result.components, beam);
    return {
      final,
      clean: { iterations: result.iterations, majorCycles: result.majorCycles, components: result.components.size, threshold: result.threshold, stopped: result.stopped },
      borderStd: borderNoiseStd(final, n, n, o.borderPx),
    };
  };

  // Paper section 2: SNR = pixel flux / std of the source-free border, so flux = SNR x noise (a
  // point source's noise-free peak equals its flux: PSF and restoring beam peak at 1). With
  // snrReference 'final' the noise is the border std of the final image: CLEAN lowers it by a few
  // per cent (noise peaks above the threshold are restored with the Gaussian beam), so a first
  // pass measures it and a second pass uses it. 'noise' uses the noise-only image (one pass).
  let fluxScale = noiseStd;
  let pass = produce(fluxScale);
  if (o.snrReference === 'final' && count > 0 && Math.abs(pass.borderStd / noiseStd - 1) > 1e-3) {
    fluxScale = pass.borderStd;
    pass = produce(fluxScale);
  }
  const final = pass.final;
  const cleanInfo = pass.clean;
  const flux = new Float64Array(count);
  for (let i = 0; i < count; i++) flux[i] = plan.snr[i] * fluxScale;

  const image = { data: Float32Array.from(final), width: n, height: n };
  const finalBorderStd = pass.borderStd;
  const snrMeasured = new Float64Array(count);
  const snrFinal = new Float64Array(count);
  for (let i = 0; i < count; i++) snrFinal[i] = flux[i] / finalBorderStd;
  for (let i = 0; i < count; i++) {
    const px = Math.round(plan.sources.x[i]);
    const py = Math.round(plan.sources.y[i]);
    snrMeasured[i] = final[py * n + px] / finalBorderStd;
  }
  const pixelDeg = o.pixelScaleArcsec / 3600;
  const bmajDeg = beam.majorPx * pixelDeg;
  const bminDeg = beam.minorPx * pixelDeg;
  const cards: FitsCard[] = [
    { key: 'BUNIT', value: 'JY/BEAM', comment: 'brightness unit' },
    { key: 'BTYPE', value: 'Intensity' },
    { key: 'BMAJ', value: bmajDeg, comment: 'fitted PSF main lobe FWHM major (deg)' },
    { key: 'BMIN', value: bminDeg, comment: 'fitted PSF main lobe FWHM minor (deg)' },
    { key: 'BPA', value: beam.paDeg, comment: 'beam position angle (deg, E of N)' },
    ...plan.wcsCards,
    { key: 'TELESCOP', value: 'MeerKAT', comment: 'simulated' },
    { key: 'OBJECT', value: `deepsource-sim-${plan.index}` },
    { key: 'OBSFREQ', value: o.centreFrequencyHz, comment: 'centre frequency (Hz)' },
    { key: 'BANDWID', value: o.channelWidthHz * o.channels, comment: 'total bandwidth (Hz)' },
    { key: 'WEIGHTNG', value: describeWeighting(o.weighting), comment: 'uv weighting' },
    { key: 'SIMSEED', value: plan.seed, comment: 'per-image seed' },
    { key: 'NSOURCES', value: count, comment: 'injected point sources' },
    { key: 'NOISESTD', value: noiseStd, comment: 'border std of the noise-only image (Jy/beam)' },
    { key: 'FLUXSCAL', value: fluxScale, comment: 'Jy per unit injected SNR (flux = SNR * this)' },
    { key: 'SNRREF', value: o.snrReference, comment: 'border std behind FLUXSCAL: final or noise' },
    { key: 'BORDSTD', value: finalBorderStd, comment: 'border std of this image (SNR denominator)' },
    { key: 'BORDERPX', value: o.borderPx, comment: 'source-free border width (px)' },
    { key: 'CLEANED', value: cleanInfo !== null, comment: 'Hogbom CLEAN + restoring beam' },
    { key: 'NITER', value: cleanInfo?.iterations ?? 0, comment: 'CLEAN iterations done' },
    { key: 'ORIGIN', value: 'deepsource-ts simulate' },
    { key: 'HISTORY', value: undefined, comment: 'Simulated MeerKAT image (Vafaei Sadr et al. 2018, section 2)' },
  ];
  return {
    image,
    beam,
    bmajDeg,
    bminDeg,
    bpaDeg: beam.paDeg,
    noiseStd,
    fluxScale,
    finalBorderStd,
    theoreticalNoise,
    truth: {
      x: plan.sources.x,
      y: plan.sources.y,
      ra_deg: plan.sources.raDeg,
      dec_deg: plan.sources.decDeg,
      flux_jy: flux,
      snr: snrFinal,
      snr_injected: plan.snr,
      snr_measured: snrMeasured,
    },
    clean: cleanInfo,
    uv: { visibilities: coverage.u.length, dropped: grid.dropped, sampledCells: weights.cells, maxUvWavelengths: coverage.maxUvWavelengths, gridSize, bandFraction: grid.maxCell / gridSize },
    cards,
  };
}

import { DEFAULT_SIMULATION_OPTIONS, imageSeed, parseWeighting, resolveSimulationOptions, sourcesPerImage } from '../../src/sim/simulate';

describe('parseWeighting', () => {
  it('accepts natural, uniform and briggs:R', () => {
    expect(parseWeighting('natural')).toEqual({ kind: 'natural' });
    expect(parseWeighting('Uniform')).toEqual({ kind: 'uniform' });
    expect(parseWeighting('briggs:-0.5')).toEqual({ kind: 'briggs', robust: -0.5 });
    expect(parseWeighting('briggs=1.5')).toEqual({ kind: 'briggs', robust: 1.5 });
  });
  it.each(['robust', 'briggs', 'briggs:', 'briggs:x', ''])('rejects %j naming the option', (text) => {
    expect(() => parseWeighting(text)).toThrow(/--weighting must be natural, uniform or briggs:R/);
  });
});

describe('resolveSimulationOptions', () => {
  it("uses the paper's defaults (Table 1) and a 10% border", () => {
    const o = resolveSimulationOptions({});
    expect(o).toMatchObject({ size: 4096, pixelScaleArcsec: 1.5, sourcesPerDeg2: 300, minSeparationArcsec: 40, channels: 10, integrationSeconds: 300, synthesisHours: 1, cleanIterations: 10000, cleanThresholdSigma: 3 });
    expect(o.centreFrequencyHz).toBe(1.4e9);
    expect(o.channelWidthHz).toBe(2.0898e6);
    expect(o.borderPx).toBe(410);
    expect(Object.isFrozen(DEFAULT_SIMULATION_OPTIONS)).toBe(true);
  });

  it('counts sources as density x core area: 300/deg2 in a (4096 - 2 x 410) px core at 1.5" = 559', () => {
    const side = ((4096 - 1 - 2 * 410) * 1.5) / 3600;
    expect(sourcesPerImage(resolveSimulationOptions({}))).toBe(Math.round(300 * side * side));
  });

  it.each([
    [{ size: 10 }, /size must be an integer from 32 to 32768, got 10/],
    [{ pixelScaleArcsec: -1 }, /pixel scale must be a positive number/],
    [{ borderPx: 2000, size: 4000 }, /border must be an integer from 1 to 1999/],
    [{ fractionBelowSnr1: 1 }, /fraction below SNR 1 must be in \(0, 1\)/],
    [{ integrationSeconds: 7200 }, /integration time must be in \(0, 3600\]/],
    [{ field: 'elsewhere' as never }, /field must be different or same/],
    [{ weighting: { kind: 'briggs', robust: 9 } as const }, /Briggs robust must be in \[-5, 5\], got 9/],
  ])('rejects %j with a message naming the parameter', (options, pattern) => {
    expect(() => resolveSimulationOptions(options)).toThrow(pattern);
  });
});

describe('imageSeed', () => {
  it('differs between images, streams and run seeds, and is a uint32', () => {
    const seeds = new Set<number>();
    for (let s = 0; s < 5; s++) for (let i = 0; i < 50; i++) for (let k = 0; k < 2; k++) seeds.add(imageSeed(s, i, k));
    expect(seeds.size).toBe(500);
    for (const s of seeds) expect(Number.isInteger(s) && s >= 0 && s <= 0xffffffff).toBe(true);
  });
});

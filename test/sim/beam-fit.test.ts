import { beamQuadraticForm, fitBeam } from '../../src/sim/beam-fit';

function gaussian(size: number, majorPx: number, minorPx: number, paDeg: number): Float64Array {
  const { qa, qb, qc } = beamQuadraticForm({ majorPx, minorPx, paDeg });
  const out = new Float64Array(size * size);
  const c = size / 2;
  for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) out[y * size + x] = Math.exp(-(qa * (x - c) ** 2 + 2 * qb * (x - c) * (y - c) + qc * (y - c) ** 2));
  return out;
}

describe('fitBeam', () => {
  it.each([
    [12, 8, 30],
    [12, 8, -60],
    [5, 3.5, 0],
    [20, 20, 0],
    [9, 4, 89],
  ])('recovers an exact Gaussian FWHM %s x %s px at PA %s deg', (major, minor, pa) => {
    const size = 128;
    const fit = fitBeam(gaussian(size, major, minor, pa), size, size, size / 2, size / 2);
    // A Gaussian is exactly quadratic in log: only float round-off remains.
    expect(fit.majorPx).toBeCloseTo(major, 6);
    expect(fit.minorPx).toBeCloseTo(minor, 6);
    if (major !== minor) {
      const dpa = ((fit.paDeg - pa + 540) % 180) - 0;
      expect(Math.min(Math.abs(dpa - 180), Math.abs(dpa), Math.abs(dpa - 360))).toBeLessThan(1e-4);
    }
  });

  it('measures PA east of north: a beam stretched along +y (north) has PA 0, along -x (east) has PA 90', () => {
    const size = 64;
    const c = size / 2;
    const north = new Float64Array(size * size);
    const east = new Float64Array(size * size);
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        north[y * size + x] = Math.exp(-4 * Math.LN2 * (((x - c) / 4) ** 2 + ((y - c) / 10) ** 2));
        east[y * size + x] = Math.exp(-4 * Math.LN2 * (((x - c) / 10) ** 2 + ((y - c) / 4) ** 2));
      }
    }
    expect(fitBeam(north, size, size, c, c).paDeg).toBeCloseTo(0, 6);
    expect(Math.abs(fitBeam(east, size, size, c, c).paDeg)).toBeCloseTo(90, 6);
    // North-east (up and to the left, since x grows to the west): PA +45.
    const ne = gaussian(size, 10, 4, 45);
    expect(ne[(c + 3) * size + (c - 3)]).toBeGreaterThan(ne[(c + 3) * size + (c + 3)]);
  });

  it('ignores sidelobes outside the main lobe', () => {
    const size = 64;
    const g = gaussian(size, 6, 6, 0);
    const c = size / 2;
    for (let x = 0; x < size; x++) g[(c + 12) * size + x] = 0.6; // a ridge disconnected from the main lobe
    const fit = fitBeam(g, size, size, c, c);
    expect(fit.majorPx).toBeCloseTo(6, 6);
  });
});

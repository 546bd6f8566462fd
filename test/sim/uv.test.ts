import { parseAntennaTable } from '../../src/sim/array';
import { SPEED_OF_LIGHT, channelFrequencies, hourAngles, uvCoverage } from '../../src/sim/uv';
import { PAPER_OBSERVATION, meerkat } from './helpers';

/** Two antennas at longitude 0 on the equator, separated by (dx, dy, dz) metres in ITRF. */
function pair(dx: number, dy: number, dz: number) {
  return parseAntennaTable(`6378137 0 0 13.5 A\n${6378137 + dx} ${dy} ${dz} 13.5 B\n`, 'test');
}

const single = { synthesisHours: 1, integrationSeconds: 3600, centreFrequencyHz: SPEED_OF_LIGHT, channelWidthHz: 1, channels: 1 };

describe('uvCoverage', () => {
  it('reads the 64 MeerKAT antennas and makes 2016 baselines x 12 times x 10 channels', () => {
    const layout = meerkat();
    expect(layout.antennas).toHaveLength(64);
    expect((layout.longitudeRad * 180) / Math.PI).toBeCloseTo(21.44, 1);
    const cov = uvCoverage(layout, { decDeg: -20, ...PAPER_OBSERVATION });
    expect(cov.baselines).toBe(2016);
    expect(cov.times).toBe(12);
    expect(cov.channels).toBe(10);
    expect(cov.u).toHaveLength(2016 * 12 * 10);
    // MeerKAT's longest baseline is ~7.7 km: ~36,000 wavelengths at 1.41 GHz.
    expect(cov.maxUvWavelengths).toBeGreaterThan(30000);
    expect(cov.maxUvWavelengths).toBeLessThan(40000);
  });

  it('a polar (Z) baseline at transit gives u = 0 and v = L cos(dec) (TMS eq. 4.1)', () => {
    // 1 wavelength = 1 m at f = c; one sample at transit (H = 0).
    const cov = uvCoverage(pair(0, 0, 100), { decDeg: -30, ...single });
    expect(cov.u[0]).toBeCloseTo(0, 9);
    expect(cov.v[0]).toBeCloseTo(100 * Math.cos((-30 * Math.PI) / 180), 9);
  });

  it('an east-west baseline at transit gives u = L and v = 0 (up to the array-centre longitude rotation)', () => {
    const layout = pair(0, 100, 0);
    // The array centre sits at longitude atan2(50, R) ~ 7.8e-6 rad, so local east is rotated by it.
    const lon = layout.longitudeRad;
    const cov = uvCoverage(layout, { decDeg: 45, ...single });
    expect(cov.u[0]).toBeCloseTo(100 * Math.cos(lon), 9);
    expect(cov.v[0]).toBeCloseTo(-Math.sin(Math.PI / 4) * 100 * Math.sin(lon), 9);
    expect(Math.abs(cov.v[0])).toBeLessThan(1e-3);
  });

  it('an east-west baseline traces an ellipse with axis ratio sin(dec) over hour angle', () => {
    const dec = -60;
    const cov = uvCoverage(pair(0, 100, 0), { decDeg: dec, synthesisHours: 12, integrationSeconds: 600, centreFrequencyHz: SPEED_OF_LIGHT, channelWidthHz: 1, channels: 1 });
    const s = Math.sin((dec * Math.PI) / 180);
    for (let i = 0; i < cov.u.length; i++) expect((cov.u[i] / 100) ** 2 + (cov.v[i] / (100 * s)) ** 2).toBeCloseTo(1, 9);
  });

  it('rotates ITRF by the array longitude: a baseline along local east at longitude 90 deg is ITRF -X', () => {
    const layout = parseAntennaTable(`0 6378137 0 13.5 A\n-100 6378137 0 13.5 B\n`, 'test');
    expect((layout.longitudeRad * 180) / Math.PI).toBeCloseTo(90, 3);
    const cov = uvCoverage(layout, { decDeg: 10, ...single });
    expect(cov.u[0]).toBeCloseTo(100, 6);
    expect(Math.abs(cov.v[0])).toBeLessThan(2e-3);
  });

  it('scales with frequency across the channels', () => {
    const cov = uvCoverage(pair(0, 100, 0), { decDeg: 0, synthesisHours: 1, integrationSeconds: 3600, centreFrequencyHz: 1.4e9, channelWidthHz: 2.0898e6, channels: 10 });
    const f = channelFrequencies({ centreFrequencyHz: 1.4e9, channelWidthHz: 2.0898e6, channels: 10 });
    expect(f[0]).toBeCloseTo(1.4e9 - 4.5 * 2.0898e6, 3);
    for (let c = 0; c < 10; c++) expect(cov.u[c]).toBeCloseTo((100 * f[c]) / SPEED_OF_LIGHT, 6);
  });

  it('samples hour angles symmetric about transit', () => {
    const h = hourAngles({ synthesisHours: 1, integrationSeconds: 300 });
    expect(h).toHaveLength(12);
    expect(h[0]).toBeCloseTo(-h[11], 12);
    expect(h[11] - h[0]).toBeCloseTo((55 * 60 * 2 * Math.PI) / 86164.0905, 9);
  });
});

describe('parseAntennaTable', () => {
  it('names the file and line of a bad row', () => {
    expect(() => parseAntennaTable('1 2 3 13.5 A\n1 2 x 13.5 B\n', 'ants.txt')).toThrow(/ants\.txt:2: expected/);
    expect(() => parseAntennaTable('# nothing\n', 'ants.txt')).toThrow(/at least 2 antennas/);
  });
});

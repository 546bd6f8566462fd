import * as path from 'node:path';
import { loadArrayLayout, type ArrayLayout } from '../../src/sim/array';

/** The real MeerKAT layout from ../shared/data (the repository's sibling folder). */
export function meerkat(): ArrayLayout {
  return loadArrayLayout(path.resolve(__dirname, '..', '..', '..', 'shared', 'data', 'meerkat_antennas.itrf.txt'));
}

export const ARCSEC = Math.PI / 180 / 3600;

/** Paper Table 1 observation (1 h, 300 s, 10 x 2.0898 MHz at 1400 MHz). */
export const PAPER_OBSERVATION = Object.freeze({
  synthesisHours: 1,
  integrationSeconds: 300,
  centreFrequencyHz: 1.4e9,
  channelWidthHz: 2.0898e6,
  channels: 10,
});

/** Gaussian (log-parabola) interpolation of the peak around the maximum within `radius` of (x, y). */
export function interpolatedPeak(data: ArrayLike<number>, width: number, x: number, y: number, radius = 3): { value: number; x: number; y: number } {
  let best = -Infinity;
  let bx = 0;
  let by = 0;
  for (let j = Math.round(y) - radius; j <= Math.round(y) + radius; j++) {
    for (let i = Math.round(x) - radius; i <= Math.round(x) + radius; i++) {
      if (data[j * width + i] > best) {
        best = data[j * width + i];
        bx = i;
        by = j;
      }
    }
  }
  const at = (i: number, j: number) => Math.log(data[j * width + i]);
  const c = at(bx, by);
  const ax = (at(bx - 1, by) + at(bx + 1, by) - 2 * c) / 2;
  const bxl = (at(bx + 1, by) - at(bx - 1, by)) / 2;
  const ay = (at(bx, by - 1) + at(bx, by + 1) - 2 * c) / 2;
  const byl = (at(bx, by + 1) - at(bx, by - 1)) / 2;
  const dx = -bxl / (2 * ax);
  const dy = -byl / (2 * ay);
  const logPeak = c + ax * dx * dx + bxl * dx + ay * dy * dy + byl * dy;
  return { value: Math.exp(logPeak), x: bx + dx, y: by + dy };
}

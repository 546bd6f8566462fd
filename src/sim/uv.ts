/**
 * uv tracks of an Earth-rotation synthesis (paper section 2.1, Table 1: 1 h synthesis, 5 min
 * integrations, 10 channels of 2.0898 MHz at 1400 MHz).
 *
 * Baselines are ITRF differences. Rotating by the array longitude gives the local equatorial frame
 * (X towards hour angle 0 on the equator, Y towards hour angle -6 h, Z to the north pole); then
 * (Thompson, Moran & Swenson, eq. 4.1):
 *   u =  sin H X + cos H Y
 *   v = -sin d cos H X + sin d sin H Y + cos d Z
 * with H the hour angle and d the declination of the field centre. The track is centred on transit.
 */
import type { ArrayLayout } from './array';

export const SPEED_OF_LIGHT = 299792458;

export interface ObservationOptions {
  /** Field-centre declination, degrees. */
  decDeg: number;
  /** Synthesis time, hours (paper: 1). */
  synthesisHours: number;
  /** Integration (sampling) time, seconds (paper: 300). */
  integrationSeconds: number;
  /** Centre frequency, Hz (paper: 1.4e9). */
  centreFrequencyHz: number;
  /** Channel width, Hz (paper: 2.0898e6). */
  channelWidthHz: number;
  /** Number of channels (paper: 10). */
  channels: number;
}

export interface UvCoverage {
  /** u and v in wavelengths, one entry per (baseline, time, channel); the conjugates (-u, -v) are implied. */
  u: Float64Array;
  v: Float64Array;
  baselines: number;
  times: number;
  channels: number;
  /** Longest projected baseline, wavelengths. */
  maxUvWavelengths: number;
}

/** Channel centre frequencies, Hz: centre + (k - (n-1)/2) * width. */
export function channelFrequencies(options: Pick<ObservationOptions, 'centreFrequencyHz' | 'channelWidthHz' | 'channels'>): Float64Array {
  const out = new Float64Array(options.channels);
  for (let k = 0; k < options.channels; k++) out[k] = options.centreFrequencyHz + (k - (options.channels - 1) / 2) * options.channelWidthHz;
  return out;
}

/** Hour angles (radians) at the middle of each integration, symmetric about transit. */
export function hourAngles(options: Pick<ObservationOptions, 'synthesisHours' | 'integrationSeconds'>): Float64Array {
  const total = options.synthesisHours * 3600;
  const count = Math.max(1, Math.round(total / options.integrationSeconds));
  const step = total / count;
  const out = new Float64Array(count);
  // Seconds of time to radians of hour angle: sidereal rate 2 pi / 86164.0905 s.
  const rate = (2 * Math.PI) / 86164.0905;
  for (let t = 0; t < count; t++) out[t] = (-total / 2 + (t + 0.5) * step) * rate;
  return out;
}

export function uvCoverage(layout: ArrayLayout, options: ObservationOptions): UvCoverage {
  const ants = layout.antennas;
  const cosLon = Math.cos(layout.longitudeRad);
  const sinLon = Math.sin(layout.longitudeRad);
  const local = ants.map((a) => ({
    x: a.x * cosLon + a.y * sinLon,
    y: -a.x * sinLon + a.y * cosLon,
    z: a.z,
  }));
  const freqs = channelFrequencies(options);
  const has = hourAngles(options);
  const dec = (options.decDeg * Math.PI) / 180;
  const sinD = Math.sin(dec);
  const cosD = Math.cos(dec);
  const nb = (ants.length * (ants.length - 1)) / 2;
  const total = nb * has.length * freqs.length;
  const u = new Float64Array(total);
  const v = new Float64Array(total);
  let idx = 0;
  let maxUv2 = 0;
  for (let p = 0; p < ants.length; p++) {
    for (let q = p + 1; q < ants.length; q++) {
      const bx = local[q].x - local[p].x;
      const by = local[q].y - local[p].y;
      const bz = local[q].z - local[p].z;
      for (let t = 0; t < has.length; t++) {
        const sinH = Math.sin(has[t]);
        const cosH = Math.cos(has[t]);
        const uM = sinH * bx + cosH * by;
        const vM = -sinD * cosH * bx + sinD * sinH * by + cosD * bz;
        for (let c = 0; c < freqs.length; c++) {
          const scale = freqs[c] / SPEED_OF_LIGHT;
          u[idx] = uM * scale;
          v[idx] = vM * scale;
          const r2 = u[idx] * u[idx] + v[idx] * v[idx];
          if (r2 > maxUv2) maxUv2 = r2;
          idx++;
        }
      }
    }
  }
  return { u, v, baselines: nb, times: has.length, channels: freqs.length, maxUvWavelengths: Math.sqrt(maxUv2) };
}

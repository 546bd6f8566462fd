/**
 * Benchmark: one simulated MeerKAT image (src/sim) with CLEAN, end to end: uv tracks, gridding,
 * weighting, PSF + noise FFT, sources through the uv plane, beam fit, Hogbom CLEAN (10,000
 * iterations max, 3 sigma auto-threshold), restore, and writing the FITS file.
 * Target (issue 2): 4096^2 on one core in <= 30 s and <= 2 GB peak RSS. Prints one JSON line.
 * With the default snrReference 'final' CLEAN runs twice (see src/sim/simulate.ts); pass
 * SNRREF=noise in the environment for the single-pass figure.
 *
 * Run (one core):
 *   npx tsc --outDir /tmp/bench-sim --module node16 --moduleResolution node16 --target es2022 \
 *     --strict --skipLibCheck --types node --resolveJsonModule bench/simulate.ts && \
 *   taskset -c 0 node /tmp/bench-sim/bench/simulate.js [SIZE [WEIGHTING [CLEAN]]]
 * e.g. `... simulate.js 4096 uniform` or `... simulate.js 4096 natural noclean`.
 * The antenna file is found as in the CLI ($DEEPSOURCE_ANTENNAS or ../shared/data next to the repo).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { writeFitsImage } from '../src/fits/write';
import { loadArrayLayout } from '../src/sim/array';
import { parseWeighting, planSimulation, resolveSimulationOptions, simulateImage } from '../src/sim/simulate';

async function main(): Promise<void> {
  const size = Number(process.argv[2] ?? 4096);
  const weighting = process.argv[3] ?? 'natural';
  const clean = (process.argv[4] ?? 'clean') !== 'noclean';
  const snrReference = process.env.SNRREF === 'noise' ? 'noise' : 'final';
  const options = resolveSimulationOptions({ size, weighting: parseWeighting(weighting), field: 'same', clean, snrReference });
  const t0 = process.hrtime.bigint();
  const cpu0 = process.cpuUsage();
  const seconds = () => Number(process.hrtime.bigint() - t0) / 1e9;
  const layout = loadArrayLayout();
  const [plan] = planSimulation(options, 1, 1);
  const stages: Record<string, number> = {};
  let last = seconds();
  let lastName = 'plan';
  const result = simulateImage(plan, options, layout, (stage) => {
    const now = seconds();
    stages[lastName] = +((stages[lastName] ?? 0) + now - last).toFixed(3); // 'clean' runs twice with snrReference 'final'
    last = now;
    lastName = stage;
  });
  stages[lastName] = +((stages[lastName] ?? 0) + seconds() - last).toFixed(3);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-sim-'));
  const writeStart = seconds();
  await writeFitsImage(path.join(dir, 'img_000.fits'), result.image, result.cards);
  stages.write_fits = +(seconds() - writeStart).toFixed(3);
  rmSync(dir, { recursive: true, force: true });
  const total = seconds();
  console.log(
    JSON.stringify({
      bench: 'simulate',
      size,
      weighting,
      clean,
      snr_reference: snrReference,
      seconds: +total.toFixed(3),
      // CPU time of this process (user + system): on a shared, loaded machine wall time overstates
      // single-core cost; on an idle core the two agree to within the GC helper threads' share.
      cpu_seconds: +((process.cpuUsage(cpu0).user + process.cpuUsage(cpu0).system) / 1e6).toFixed(3),
      load_average_1m: +os.loadavg()[0].toFixed(2),
      peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
      stages_s: stages,
      sources: result.truth.snr.length,
      clean_iterations: result.clean?.iterations ?? 0,
      clean_major_cycles: result.clean?.majorCycles ?? 0,
      clean_stopped: result.clean?.stopped ?? null,
      beam_arcsec: [+(result.bmajDeg * 3600).toFixed(2), +(result.bminDeg * 3600).toFixed(2), +result.bpaDeg.toFixed(1)],
      noise_std_jy: result.noiseStd,
      theoretical_noise_jy: result.theoreticalNoise,
      final_border_std_jy: result.finalBorderStd,
      node: process.version,
      cpus_visible: os.cpus().length,
    }),
  );
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

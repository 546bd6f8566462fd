/**
 * Benchmark: catalogue write/read throughput per format for an N-row detection catalogue
 * (default 1 M rows), and the PostgreSQL + q3c load rate (issue 7). Prints one JSON line per case.
 *
 * Run:
 *   npx tsc --outDir /tmp/bench-cat --module node16 --moduleResolution node16 --target es2022 \
 *     --strict --skipLibCheck --esModuleInterop --resolveJsonModule --types node bench/catalogue.ts
 *   NODE_PATH=$PWD/node_modules node /tmp/bench-cat/bench/catalogue.js [ROWS] [PG_ROWS]
 * PG_ROWS > 0 loads that many rows into the server of infra/postgres/start.sh (url from
 * .infra/postgres/url or $DEEPSOURCE_DB) twice: a fresh insert, then an upsert over the same ids.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Random } from '../src/core/random';
import { buildDetectionTable } from '../src/catalogue/schema';
import { CATALOGUE_FORMATS, writeCatalogue } from '../src/catalogue/write';
import { readCatalogue } from '../src/catalogue/read';
import { tableLength, type ColumnTable } from '../src/catalogue/table';
import { createPostgresSink } from '../src/adapters/postgres';

function syntheticTable(n: number): ColumnTable {
  const rng = new Random(1);
  const ra = new Float64Array(n);
  const dec = new Float64Array(n);
  const peak = new Float64Array(n);
  const rms = new Float64Array(n);
  const cnn = new Float32Array(n);
  const area = new Int32Array(n);
  const x = new Float64Array(n);
  const y = new Float64Array(n);
  const imageIds = new Array<string>(n);
  for (let i = 0; i < n; i++) {
    ra[i] = 150 + rng.uniform() * 10;
    dec[i] = -35 + rng.uniform() * 10;
    x[i] = rng.uniform() * 4096;
    y[i] = rng.uniform() * 4096;
    rms[i] = 1e-5 * (1 + 0.1 * rng.gaussian());
    peak[i] = rms[i] * (3 + 20 * rng.uniform());
    cnn[i] = rng.uniform();
    area[i] = 3 + rng.int(30);
    imageIds[i] = `img_${String(Math.floor(i / 5000)).padStart(4, '0')}`;
  }
  return buildDetectionTable(
    { image_id: imageIds, x, y, ra_deg: ra, dec_deg: dec, peak_flux: peak, local_rms: rms, cnn_peak: cnn, area_px: area },
    { modelName: 'natural', modelVersion: 'bench', noiseEstimator: 'mad-local-rms', imageName: 'bench.fits', tbd: { delta_max: 3, a_min: 4 } },
  );
}

/** User+system CPU seconds of this process since `start` (less sensitive than wall time to other load on a shared machine). */
function cpuSeconds(start: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(start);
  return (d.user + d.system) / 1e6;
}

async function main(): Promise<void> {
  const rows = Number(process.argv[2] ?? 1_000_000);
  const pgRows = Number(process.argv[3] ?? 0);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-cat-'));
  const common = { node: process.version, cpus: os.cpus().length, cpu: os.cpus()[0]?.model };
  try {
    let t0 = performance.now();
    const buildCpu0 = process.cpuUsage();
    const table = syntheticTable(rows);
    console.log(JSON.stringify({ bench: 'catalogue', case: 'build', rows, seconds: +((performance.now() - t0) / 1000).toFixed(3), cpu_s: +cpuSeconds(buildCpu0).toFixed(3), loadavg_1m: os.loadavg()[0], note: 'incl. source_id, IAU name, HEALPix order 29', ...common }));
    for (const format of CATALOGUE_FORMATS) {
      const file = path.join(dir, `cat.${format}`);
      global.gc?.();
      t0 = performance.now();
      let cpu0 = process.cpuUsage();
      await writeCatalogue(file, table, format);
      const writeS = (performance.now() - t0) / 1000;
      const writeCpu = cpuSeconds(cpu0);
      const bytes = fs.statSync(file).size;
      let readS: number | null = null;
      let readCpu: number | null = null;
      if (format !== 'reg') {
        global.gc?.();
        t0 = performance.now();
        cpu0 = process.cpuUsage();
        const back = await readCatalogue(file);
        readS = (performance.now() - t0) / 1000;
        readCpu = cpuSeconds(cpu0);
        if (tableLength(back) !== rows) throw new Error(`${format}: read ${tableLength(back)} rows, wrote ${rows}`);
      }
      console.log(
        JSON.stringify({
          bench: 'catalogue', case: format, rows, bytes, bytes_per_row: +(bytes / Math.max(1, rows)).toFixed(1),
          write_s: +writeS.toFixed(3), write_cpu_s: +writeCpu.toFixed(3), write_rows_per_s: Math.round(rows / writeS),
          read_s: readS === null ? null : +readS.toFixed(3), read_cpu_s: readCpu === null ? null : +readCpu.toFixed(3),
          read_rows_per_s: readS === null ? null : Math.round(rows / readS),
        }),
      );
      fs.rmSync(file);
    }
    if (pgRows > 0) {
      // Run from the repository root: the url file is .infra/postgres/url (infra/postgres/start.sh).
      const urlFile = path.resolve(process.env.DEEPSOURCE_INFRA_STATE ?? '.infra', 'postgres/url');
      const url = process.env.DEEPSOURCE_DB ?? fs.readFileSync(urlFile, 'utf8').trim();
      const sub = pgRows === rows ? table : syntheticTable(pgRows);
      const sink = createPostgresSink({ connectionString: url, table: 'bench_sources', batchSize: 10000 });
      try {
        await sink.query('DROP TABLE IF EXISTS bench_sources, bench_sources_provenance');
        for (const kind of ['insert', 'upsert-same-ids']) {
          t0 = performance.now();
          await sink.upsert(sub);
          const s = (performance.now() - t0) / 1000;
          console.log(JSON.stringify({ bench: 'catalogue', case: `postgres-${kind}`, rows: pgRows, seconds: +s.toFixed(3), rows_per_s: Math.round(pgRows / s), batch: 10000, loadavg_1m: os.loadavg()[0] }));
        }
        t0 = performance.now();
        const hits = await sink.coneSearch(155, -30, 0.05);
        console.log(JSON.stringify({ bench: 'catalogue', case: 'postgres-cone-0.05deg', rows: pgRows, hits: hits.length, seconds: +((performance.now() - t0) / 1000).toFixed(4) }));
        await sink.query('DROP TABLE IF EXISTS bench_sources, bench_sources_provenance');
      } finally {
        await sink.close();
      }
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});

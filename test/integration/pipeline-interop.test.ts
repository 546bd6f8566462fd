/**
 * @jest-environment ./test/adapters/onnx-environment.js
 *
 * The pipeline's outputs read by a reference client: pyarrow (installed by infra/python) opens the
 * catalogue Parquet, the Arrow IPC file and the per-tile metrics Parquet, with the expected columns.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createLocalStore } from '../../src/adapters/local-store';
import { parsePipelineConfig } from '../../src/pipeline/config';
import { runPipeline } from '../../src/pipeline/wiring';
import { testExecutor, testFitsImage } from '../pipeline/fixtures';

jest.setTimeout(120_000);

test('pyarrow reads the catalogue (Parquet + Arrow IPC) and the tile metrics', async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ds-interop-'));
  const store = createLocalStore(root);
  await store.ensureBucket('images');
  await store.put({ bucket: 'images', key: 'interop.fits' }, testFitsImage(61, 260, 240, 10));
  const config = parsePipelineConfig(
    { name: 'interop', storage: { kind: 'local', root }, queue: { kind: 'memory' }, input: { bucket: 'images' }, output: { bucket: 'results', prefix: 'ds' }, tiling: { tile: 128, overlap: 16 }, progressIntervalSec: 0 },
    'interop', {}, root,
  );
  const executor = await testExecutor();
  const report = await runPipeline(config, { store, executor, log: () => {} });
  await executor.close();
  const event = report.events[0];
  const file = (key: string): string => path.join(root, 'results', key);
  const script = `
import json, sys, pyarrow.parquet as pq, pyarrow.ipc as ipc
cat = pq.read_table(sys.argv[1]); arrow = ipc.open_file(sys.argv[2]).read_all(); m = pq.read_table(sys.argv[3])
print(json.dumps({"rows": cat.num_rows, "arrow_rows": arrow.num_rows, "columns": cat.column_names,
  "metrics_columns": m.column_names, "metrics_rows": m.num_rows,
  "types": {f.name: str(f.type) for f in m.schema}, "blob_sum": sum(m.column("blob_count").to_pylist()),
  "image_ids": sorted(set(cat.column("image_id").to_pylist()))}))`;
  const out = JSON.parse(execFileSync('python3', ['-c', script, file(event.catalogue!.parquetKey), file(event.catalogue!.arrowKey), file(event.catalogue!.metricsKey)]).toString());
  expect(out.rows).toBe(event.sources);
  expect(out.arrow_rows).toBe(event.sources);
  expect(out.columns).toEqual(expect.arrayContaining(['source_id', 'image_id', 'x', 'y', 'ra_deg', 'dec_deg', 'peak_flux', 'local_rms', 'snr', 'cnn_peak', 'area_px', 'tile_id', 'flags']));
  expect(out.metrics_columns).toEqual(['image_id', 'tile_id', 'x0', 'y0', 'x1', 'y1', 'worker_id', 'inference_ms', 'queue_wait_ms', 'blob_count', 'noise_rms', 'max_cnn', 'attempts']);
  expect(out.metrics_rows).toBe(9); // ceil((260 − 32) / (128 − 32)) = 3 columns, ceil((240 − 32) / 96) = 3 rows
  expect(out.types).toMatchObject({ tile_id: 'int32', inference_ms: 'double', max_cnn: 'float', attempts: 'int32', worker_id: 'string' });
  expect(out.blob_sum).toBe(event.sources);
  expect(out.image_ids).toEqual(['interop']);
});

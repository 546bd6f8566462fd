/**
 * Benchmark (issue 6): pipeline throughput and latency against single-process `detect` on the
 * same images, in the same run. Prints one JSON object per line; not a test, nothing is asserted.
 *
 * Build and run from the repository root (dist/ must be built too: the extra worker process is
 * `bin/deepsource.js pipeline worker`):
 *
 *   npx tsc -p tsconfig.json
 *   npx tsc --outDir tmp/bench-pipeline --rootDir . --module node16 --moduleResolution node16 \
 *     --target es2022 --strict --skipLibCheck --esModuleInterop --resolveJsonModule --types node \
 *     bench/pipeline.ts src/tiling/tile-worker.ts src/adapters/onnx-runtime.ts
 *   node tmp/bench-pipeline/bench/pipeline.js [--images 8] [--size 4096] [--tile 1024] [--model DIR] [--queue kafka|memory]
 *
 * Cases, each on the same N synthetic size² images (noise + beam-shaped point sources):
 *  - detect:        detectFitsImage per image, onnxruntime on one thread (the CLI's --workers 1);
 *  - pipeline-1:    ingest + worker + assemble in one process (runPipeline), one CNN thread;
 *  - pipeline-2:    the same plus a second `deepsource pipeline worker` process in the group.
 * With --queue kafka (default when infra/kafka is running) the pipeline uses the test broker and,
 * when infra/s3 is running, versitygw as the object store; otherwise a local directory. Latency is
 * from an image's announcement to its catalogue event. Without --model, models/natural if trained,
 * else the Fig. 8 architecture with seeded weights (speed does not depend on the weights).
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Random } from '../src/core/random';
import { encodeFitsImage } from '../src/fits/write';
import { sinWcsCards } from '../src/fits/wcs';
import { initialWeights } from '../src/model/network';
import { saveModelDir } from '../src/model/save';
import { createOnnxRuntime } from '../src/adapters/onnx-runtime';
import { createSerialExecutor } from '../src/tiling/pool';
import { detectFitsImage } from '../src/detect/detect-image';
import { planTiles } from '../src/tiling/plan';
import { parsePipelineConfig } from '../src/pipeline/config';
import { createStore, runPipeline } from '../src/pipeline/wiring';

const REPO = path.resolve(__dirname, '..', '..', '..');
const STATE = process.env.DEEPSOURCE_INFRA_STATE ?? path.join(REPO, '.infra');

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
}

function envFile(file: string): Record<string, string> | null {
  if (!fs.existsSync(file)) return null;
  return Object.fromEntries(fs.readFileSync(file, 'utf8').trim().split('\n').map((l) => { const i = l.indexOf('='); return [l.slice(0, i), l.slice(i + 1)]; }));
}

function syntheticImage(seed: number, size: number): Buffer {
  const rng = new Random(seed);
  const data = new Float32Array(size * size);
  for (let i = 0; i < data.length; i++) data[i] = 2e-5 * rng.gaussian();
  const n = Math.round((size * size) / 40_000);
  for (let s = 0; s < n; s++) {
    const x0 = rng.uniform() * size;
    const y0 = rng.uniform() * size;
    const flux = 1e-4 * Math.pow(1 - rng.uniform(), -1 / 1.5);
    for (let y = Math.max(0, Math.floor(y0 - 5)); y < Math.min(size, y0 + 5); y++)
      for (let x = Math.max(0, Math.floor(x0 - 5)); x < Math.min(size, x0 + 5); x++) data[y * size + x] += flux * Math.exp(-((x - x0) ** 2 + (y - y0) ** 2) / 4.5);
  }
  const cards = [...sinWcsCards({ raDeg: 40, decDeg: -40, cdeltDeg: 1.5 / 3600, width: size, height: size }), { key: 'BMAJ', value: 5 / 3600 }, { key: 'BMIN', value: 5 / 3600 }, { key: 'BPA', value: 0 }];
  return encodeFitsImage({ data, width: size, height: size }, cards);
}

async function main(): Promise<void> {
  const images = Number(arg('images', '8'));
  const size = Number(arg('size', '4096'));
  const tile = Number(arg('tile', '1024'));
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'ds-bench-pipeline-'));
  let model = arg('model', '');
  if (!model) {
    const natural = path.join(REPO, 'models', 'natural');
    if (fs.existsSync(path.join(natural, 'model.onnx'))) model = natural;
    else {
      model = path.join(work, 'model');
      saveModelDir(model, initialWeights(1), { name: 'bench-untrained', version: '0', demand: { alpha: 1, bn: 1, hornRadius: 1, gaussianSigma: 1 } });
    }
  }
  const kafka = envFile(path.join(STATE, 'kafka', 'env'));
  const s3 = envFile(path.join(STATE, 's3', 'env'));
  const queueKind = arg('queue', kafka ? 'kafka' : 'memory');
  const files: string[] = [];
  for (let i = 0; i < images; i++) {
    const f = path.join(work, 'in', `img_${String(i).padStart(3, '0')}.fits`);
    fs.mkdirSync(path.dirname(f), { recursive: true });
    fs.writeFileSync(f, syntheticImage(100 + i, size));
    files.push(f);
  }
  const mpx = (images * size * size) / 1e6;
  const common = { images, size, tile, model: path.basename(model), cpus: os.cpus().length };

  let detectMpixPerS = NaN;
  // detect, one CNN thread, same images
  {
    const runtime = await createOnnxRuntime(model, { intraOpThreads: 1 });
    const executor = createSerialExecutor(runtime);
    const t0 = performance.now();
    let tiles = 0;
    for (const f of files) tiles += (await detectFitsImage(f, { executor, tile, overlap: 16 })).plan?.tiles.length ?? 0;
    const s = (performance.now() - t0) / 1000;
    await runtime.dispose();
    detectMpixPerS = mpx / s;
    console.log(JSON.stringify({ case: 'detect', ...common, seconds: s, mpixPerS: mpx / s, tilesPerS: tiles / s }));
  }

  for (const workers of [1, 2]) {
    const name = `bench-${workers}-${Date.now().toString(36)}`;
    const env: NodeJS.ProcessEnv = { ...process.env };
    const raw: Record<string, unknown> = {
      name,
      queue: queueKind === 'kafka' ? { kind: 'kafka', brokers: [kafka!.KAFKA_BROKERS], topicPrefix: name, partitions: 8 } : { kind: 'memory' },
      storage: s3 && queueKind === 'kafka' ? { kind: 's3', endpoint: s3.S3_ENDPOINT, forcePathStyle: true } : { kind: 'local', root: path.join(work, 'store') },
      input: { bucket: 'bench-in', prefix: '' },
      output: { bucket: 'bench-out', prefix: 'ds' },
      model,
      tiling: { tile, overlap: 16 },
      worker: { threads: 1 },
      progressIntervalSec: 0,
    };
    if (s3) Object.assign(env, { AWS_ACCESS_KEY_ID: s3.AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY: s3.AWS_SECRET_ACCESS_KEY, AWS_REGION: s3.AWS_REGION });
    Object.assign(process.env, env);
    if (workers > 1 && queueKind !== 'kafka') {
      console.log(JSON.stringify({ case: `pipeline-${workers}`, skipped: 'a second worker process needs Kafka (infra/kafka/start.sh)' }));
      continue;
    }
    const cfgFile = path.join(work, `${name}.json`);
    fs.writeFileSync(cfgFile, JSON.stringify(raw));
    const config = parsePipelineConfig(raw, cfgFile, env, work);
    const store = createStore(config, env);
    await store.ensureBucket('bench-in');
    for (const f of files) await store.put({ bucket: 'bench-in', key: path.basename(f) }, fs.readFileSync(f));
    const extra = [];
    for (let w = 1; w < workers; w++) {
      extra.push(spawn(process.execPath, [path.join(REPO, 'bin', 'deepsource.js'), 'pipeline', 'worker', '--config', cfgFile, '--quiet'], { env, stdio: 'ignore' }));
    }
    if (extra.length > 0) await new Promise((r) => setTimeout(r, 3000)); // let it load the model and join
    const t0 = performance.now();
    const report = await runPipeline(config, { store, log: () => {} });
    const s = (performance.now() - t0) / 1000;
    for (const c of extra) c.kill('SIGTERM');
    await store.close();
    const latencies = report.events.map((e) => (e.latencyMs ?? 0) / 1000).sort((a, b) => a - b);
    // Steady state: first announcement to last catalogue. The rest of `seconds` is start-up (topic
    // creation, consumer-group joins), paid once by a long-running survey deployment.
    const processing = (Math.max(...report.events.map((e) => e.at)) - Math.min(...report.events.map((e) => e.announcedAt ?? e.at))) / 1000;
    const tiles = images * planTiles(size, size, { tile, overlap: 16 }).tiles.length;
    console.log(JSON.stringify({
      case: `pipeline-${workers}`, ...common, queue: queueKind, store: config.storage.kind, workerProcesses: workers,
      seconds: s, processingS: processing, startupS: s - processing, mpixPerS: mpx / processing, tilesPerS: tiles / processing, mpixPerSWall: mpx / s, ok: report.ok, failed: report.failed,
      vsDetect: mpx / processing / detectMpixPerS,
      latencyS: { min: latencies[0], median: latencies[Math.floor(latencies.length / 2)], max: latencies[latencies.length - 1] },
    }));
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

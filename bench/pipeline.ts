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
 *   node tmp/bench-pipeline/bench/pipeline.js [--images 8] [--size 4096] [--tile 1024] [--model DIR] [--queue kafka|memory] [--data SIMDIR]
 *     [--cases detect,pipeline-1,pipeline-2] [--detect-mpixps X (vsDetect without re-running detect)]
 *
 * Cases, each on the same N size² images (synthetic: noise + beam-shaped point sources; or with
 * --data, the first N images of a `deepsource simulate --size 4096` directory):
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
import { modelTbdOptions } from '../src/detect/tbd-params';
import { tableLength } from '../src/catalogue/table';
import { planTiles } from '../src/tiling/plan';
import { parsePipelineConfig } from '../src/pipeline/config';
import { createStore, runPipeline } from '../src/pipeline/wiring';
import { meteredStore } from '../src/adapters/metered-store';

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

/** CPU seconds (user + system) of a process from /proc/PID/stat, or NaN. */
function procCpuSeconds(pid: number | undefined): number {
  if (!pid) return NaN;
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
  } catch {
    return NaN;
  }
}

function pidFrom(file: string): number | undefined {
  try {
    const pid = Number(fs.readFileSync(file, 'utf8').trim());
    return pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function loadAverage(): number[] {
  return fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).map(Number);
}

function cpuSeconds(start: NodeJS.CpuUsage): number {
  const u = process.cpuUsage(start);
  return (u.user + u.system) / 1e6;
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

let workDir = '';

async function main(): Promise<void> {
  const images = Number(arg('images', '8'));
  const size = Number(arg('size', '4096'));
  const tile = Number(arg('tile', '1024'));
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'ds-bench-pipeline-'));
  workDir = work;
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
  // --data DIR: the first N images of a `deepsource simulate` directory (MeerKAT simulations), copied
  // so the run's outputs stay out of it; otherwise synthetic images.
  const data = arg('data', '');
  for (let i = 0; i < images; i++) {
    const f = path.join(work, 'in', `img_${String(i).padStart(3, '0')}.fits`);
    fs.mkdirSync(path.dirname(f), { recursive: true });
    if (data) {
      const src = path.join(data, `img_${String(i).padStart(3, '0')}.fits`);
      if (!fs.existsSync(src)) throw new Error(`--data ${data}: ${path.basename(src)} missing (need --images ${images})`);
      fs.copyFileSync(src, f);
    } else fs.writeFileSync(f, syntheticImage(100 + i, size));
    files.push(f);
  }
  const mpx = (images * size * size) / 1e6;
  const imageBytes = files.reduce((n, f) => n + fs.statSync(f).size, 0);
  const common = { images, size, tile, model: path.basename(model), data: data ? 'simulate' : 'synthetic', cpus: os.cpus().length };
  const cases = new Set(arg('cases', 'detect,pipeline-1,pipeline-2').split(','));
  const services = { kafka: pidFrom(path.join(STATE, 'kafka', 'kafka.pid')), s3: pidFrom(path.join(STATE, 's3', 'versitygw.pid')) };

  let detectMpixPerS = Number(arg('detect-mpixps', 'NaN'));
  const detectSources: number[] = [];
  // detect, one CNN thread, same images
  if (cases.has('detect')) {
    const load = loadAverage();
    const runtime = await createOnnxRuntime(model, { intraOpThreads: 1 });
    const executor = createSerialExecutor(runtime);
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    let tiles = 0;
    // The model's tuned TBD exactly as `deepsource detect` and the pipeline apply it (tbd.json,
    // rescaled per image), so the two catalogues, and the work behind them, are the same.
    const tbd = modelTbdOptions(model, {});
    for (const f of files) {
      const r = await detectFitsImage(f, { executor, tile, overlap: 16, tbd: tbd.options, tbdScaling: tbd.scaling });
      tiles += r.plan?.tiles.length ?? 0;
      detectSources.push(tableLength(r.table));
    }
    const s = (performance.now() - t0) / 1000;
    const cpu = cpuSeconds(cpu0);
    await runtime.dispose();
    detectMpixPerS = mpx / s;
    console.log(JSON.stringify({ case: 'detect', ...common, sources: detectSources, seconds: s, mpixPerS: mpx / s, tilesPerS: tiles / s, cpuSeconds: cpu, cpuSecondsPerMpx: cpu / mpx, loadBefore: load, loadAfter: loadAverage() }));
  }

  for (const workers of [1, 2]) {
    if (!cases.has(`pipeline-${workers}`)) continue;
    const name = `bench-${workers}-${Date.now().toString(36)}`;
    const env: NodeJS.ProcessEnv = { ...process.env };
    const raw: Record<string, unknown> = {
      name,
      queue: queueKind === 'kafka' ? { kind: 'kafka', brokers: [kafka!.KAFKA_BROKERS], topicPrefix: name, partitions: 8 } : { kind: 'memory' },
      storage: s3 && queueKind === 'kafka' ? { kind: 's3', endpoint: s3.S3_ENDPOINT, forcePathStyle: true } : { kind: 'local', root: path.join(work, 'store') },
      // Exactly this run's images (the bucket may hold other runs' images).
      input: { bucket: 'bench-in', keys: files.map((f) => path.basename(f)) },
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
    const plain = createStore(config, env);
    await plain.ensureBucket('bench-in');
    for (const f of files) await plain.put({ bucket: 'bench-in', key: path.basename(f) }, fs.readFileSync(f));
    const store = meteredStore(plain);
    const extra: Array<{ child: ReturnType<typeof spawn>; stats: Promise<Record<string, unknown> | null>; cpu0: number }> = [];
    for (let w = 1; w < workers; w++) {
      // Not --quiet: the worker's closing line carries its CPU seconds and S3 traffic.
      const child = spawn(process.execPath, [path.join(REPO, 'bin', 'deepsource.js'), 'pipeline', 'worker', '--config', cfgFile], { env, stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
      const stats = new Promise<Record<string, unknown> | null>((resolve) => child.on('exit', () => {
        const m = /worker: stopped; (\{.*\})/.exec(err);
        resolve(m ? (JSON.parse(m[1]) as Record<string, unknown>) : null);
      }));
      extra.push({ child, stats, cpu0: 0 });
    }
    if (extra.length > 0) await new Promise((r) => setTimeout(r, 3000)); // let it load the model and join
    for (const e of extra) e.cpu0 = procCpuSeconds(e.child.pid);
    const load = loadAverage();
    const svc0 = { kafka: procCpuSeconds(services.kafka), s3: procCpuSeconds(services.s3) };
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const report = await runPipeline(config, { store, log: () => {} });
    const s = (performance.now() - t0) / 1000;
    const cpuMain = cpuSeconds(cpu0);
    const svc = { kafka: procCpuSeconds(services.kafka) - svc0.kafka, s3: procCpuSeconds(services.s3) - svc0.s3 };
    const workerCpu = extra.map((e) => procCpuSeconds(e.child.pid) - e.cpu0);
    for (const e of extra) e.child.kill('SIGTERM');
    const childStats = await Promise.all(extra.map((e) => e.stats));
    await store.close();
    // The run's outputs (64 MiB of tile maps per image) are not needed afterwards: remove them
    // from the local store, or from the test S3 server's posix directory (the port has no delete).
    const outDir = config.storage.kind === 'local' ? path.join(work, 'store', 'bench-out', 'ds', name) : path.join(STATE, 's3', 'data', 'bench-out', 'ds', name);
    fs.rmSync(outDir, { recursive: true, force: true });
    const childRead = childStats.reduce((n, c) => n + Number((c?.store as { bytesRead?: number } | undefined)?.bytesRead ?? NaN), 0);
    const bytesRead = store.traffic.bytesRead + childRead;
    const latencies = report.events.map((e) => (e.latencyMs ?? 0) / 1000).sort((a, b) => a - b);
    // Steady state: first announcement to last catalogue. The rest of `seconds` is start-up (topic
    // creation, consumer-group joins), paid once by a long-running survey deployment.
    const processing = (Math.max(...report.events.map((e) => e.at)) - Math.min(...report.events.map((e) => e.announcedAt ?? e.at))) / 1000;
    const tiles = images * planTiles(size, size, { tile, overlap: 16 }).tiles.length;
    console.log(JSON.stringify({
      case: `pipeline-${workers}`, ...common, queue: queueKind, store: config.storage.kind, workerProcesses: workers,
      seconds: s, processingS: processing, startupS: s - processing, mpixPerS: mpx / processing, tilesPerS: tiles / processing, mpixPerSWall: mpx / s, ok: report.ok, failed: report.failed,
      vsDetect: mpx / processing / detectMpixPerS,
      // Sources per image, in input order: equal to detect's when both ran.
      sources: files.map((f) => report.events.find((e) => e.imageId === path.basename(f, '.fits'))?.sources ?? null),
      sameSourcesAsDetect: detectSources.length === 0 ? null : files.every((f, i) => report.events.find((e) => e.imageId === path.basename(f, '.fits'))?.sources === detectSources[i]),
      latencyS: { min: latencies[0], median: latencies[Math.floor(latencies.length / 2)], max: latencies[latencies.length - 1] },
      // CPU seconds of this process (ingest + worker + assemble + its CNN thread), of the extra worker
      // processes, and of the broker and S3 server over the run; bytes read from the store (both
      // processes) over the input images' bytes.
      cpuSeconds: { main: cpuMain, workers: workerCpu, kafka: svc.kafka, s3: svc.s3 },
      cpuSecondsPerMpx: (cpuMain + workerCpu.reduce((a, b) => a + b, 0)) / mpx,
      storeRead: { bytes: bytesRead, overImageBytes: bytesRead / imageBytes, inProcess: store.traffic, workerProcesses: childStats },
      rowCache: report.rowCache,
      loadBefore: load, loadAfter: loadAverage(),
    }));
  }
}

main().then(() => {
  // Inputs and local outputs lived in this fresh temporary directory.
  fs.rmSync(workDir, { recursive: true, force: true });
}).catch((err) => {
  console.error(err);
  process.exit(1);
});

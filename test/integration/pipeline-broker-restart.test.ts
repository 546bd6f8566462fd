/**
 * @jest-environment ./test/adapters/onnx-environment.js
 *
 * Broker restart mid-run: a private single-node KRaft broker (the jars infra/kafka/setup.sh
 * installed, its own ports and data directory, so no other test is disturbed) is stopped while
 * tiles are in flight and started again on the same ports; the run completes and the catalogue
 * equals `detect`'s. S3 is the shared versitygw.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { createS3Store } from '../../src/adapters/s3';
import { decodeParquet } from '../../src/catalogue/parquet';
import { tableLength } from '../../src/catalogue/table';
import { detectFitsImage } from '../../src/detect/detect-image';
import { parsePipelineConfig } from '../../src/pipeline/config';
import { runPipeline } from '../../src/pipeline/wiring';
import type { TileExecutor } from '../../src/tiling/pool';
import { testExecutor, testFitsImage } from '../pipeline/fixtures';
import { s3Env, STATE_DIR, uniqueName } from '../pipeline/services';

jest.setTimeout(300_000);

const LIBS = path.join(STATE_DIR, 'kafka', 'libs');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ds-kraft-'));
const s3 = s3Env();
let broker: ChildProcess | undefined;
let brokerPort = 0;
let executor: TileExecutor;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
    s.on('error', reject);
  });
}

const java = (main: string, ...args: string[]): string[] => ['-Xmx384m', '-XX:+UseSerialGC', `-Dlog4j.configuration=file:${path.join(dir, 'log4j.properties')}`, '-cp', `${LIBS}/*`, main, ...args];

async function startBroker(): Promise<void> {
  broker = spawn('java', java('kafka.Kafka', path.join(dir, 'server.properties')), { stdio: 'ignore' });
  const end = Date.now() + 120_000;
  while (!fs.existsSync(path.join(dir, 'server.log')) || !/Kafka Server started/.test(fs.readFileSync(path.join(dir, 'server.log'), 'utf8').split('Restart marker').pop()!)) {
    if (broker.exitCode !== null) throw new Error(`private broker exited with ${broker.exitCode}`);
    if (Date.now() > end) throw new Error('private broker did not start');
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function stopBroker(): Promise<void> {
  if (!broker || broker.exitCode !== null) return;
  const exited = new Promise((r) => broker!.once('exit', r));
  broker.kill('SIGTERM');
  await exited;
  fs.appendFileSync(path.join(dir, 'server.log'), '\nRestart marker\n');
}

beforeAll(async () => {
  if (!fs.existsSync(LIBS)) throw new Error(`${LIBS} missing: run bash infra/kafka/setup.sh (npm test does)`);
  brokerPort = await freePort();
  const controllerPort = await freePort();
  fs.writeFileSync(path.join(dir, 'server.properties'), [
    'process.roles=broker,controller', 'node.id=1', `controller.quorum.voters=1@127.0.0.1:${controllerPort}`,
    `listeners=PLAINTEXT://127.0.0.1:${brokerPort},CONTROLLER://127.0.0.1:${controllerPort}`, `advertised.listeners=PLAINTEXT://127.0.0.1:${brokerPort}`,
    'controller.listener.names=CONTROLLER', 'listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
    `log.dirs=${path.join(dir, 'data')}`, 'offsets.topic.replication.factor=1', 'offsets.topic.num.partitions=2', 'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1', 'group.initial.rebalance.delay.ms=0', 'auto.create.topics.enable=false',
  ].join('\n') + '\n');
  fs.writeFileSync(path.join(dir, 'log4j.properties'), `log4j.rootLogger=WARN, file\nlog4j.logger.kafka=INFO\nlog4j.appender.file=org.apache.log4j.FileAppender\nlog4j.appender.file.File=${path.join(dir, 'server.log')}\nlog4j.appender.file.layout=org.apache.log4j.PatternLayout\nlog4j.appender.file.layout.ConversionPattern=%p %m%n\n`);
  const clusterId = execFileSync('java', java('kafka.tools.StorageTool', 'random-uuid')).toString().trim();
  execFileSync('java', java('kafka.tools.StorageTool', 'format', '-t', clusterId, '-c', path.join(dir, 'server.properties')), { stdio: 'ignore' });
  await startBroker();
  executor = await testExecutor();
});

afterAll(async () => {
  if (broker && broker.exitCode === null) {
    const exited = new Promise((r) => broker!.once('exit', r));
    broker.kill('SIGKILL');
    await exited;
  }
  await executor?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('the broker restarts mid-run and the run completes with the same catalogue', async () => {
  const name = uniqueName('restart');
  const config = parsePipelineConfig(
    {
      name,
      storage: { kind: 's3', endpoint: s3.endpoint, forcePathStyle: true },
      queue: { kind: 'kafka', brokers: [`127.0.0.1:${brokerPort}`], topicPrefix: name, partitions: 2, sessionTimeoutMs: 10000 },
      input: { bucket: `${name}-in`, prefix: '' },
      output: { bucket: `${name}-out`, prefix: 'ds' },
      tiling: { tile: 128, overlap: 16 },
      retry: { maxAttempts: 3, backoffMs: 100 },
      progressIntervalSec: 0,
    },
    'restart test', {}, os.tmpdir(),
  );
  const store = createS3Store({ endpoint: s3.endpoint, credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey } });
  const bytes = testFitsImage(41, 560, 560, 20);
  await store.ensureBucket(config.input.bucket);
  await store.put({ bucket: config.input.bucket, key: 'restart.fits' }, bytes);
  let restart: Promise<void> | undefined;
  let restarted = false;
  const report = await runPipeline(config, {
    store, executor, timeoutMs: 240_000,
    log: (line) => {
      if (!restart && /tile\(s\) queued/.test(line)) {
        restart = (async () => {
          await new Promise((r) => setTimeout(r, 500));
          await stopBroker();
          await new Promise((r) => setTimeout(r, 3000));
          await startBroker();
          restarted = true;
        })();
      }
    },
  });
  await restart;
  expect(restarted).toBe(true);
  expect(report.ok).toBe(1);
  const table = decodeParquet(await store.get({ bucket: config.output.bucket, key: report.events[0].catalogue!.parquetKey }), 'restart');
  const file = path.join(dir, 'restart.fits');
  fs.writeFileSync(file, bytes);
  const reference = (await detectFitsImage(file, { executor, tile: 128, overlap: 16 })).table;
  expect(tableLength(table)).toBe(tableLength(reference));
  expect(Array.from(table.columns.source_id as string[])).toEqual(Array.from(reference.columns.source_id as string[]));
  expect(Array.from(table.columns.x as Float64Array)).toEqual(Array.from(reference.columns.x as Float64Array));
  await store.close();
});

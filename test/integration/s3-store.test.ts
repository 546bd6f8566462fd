/** ObjectStore contract against a real S3 server (versitygw, started by infra/s3/start.sh). */
import { createS3Store } from '../../src/adapters/s3';
import { ObjectNotFoundError } from '../../src/adapters/ports';
import { ServiceError } from '../../src/core/errors';
import { s3Env, uniqueName } from '../pipeline/services';

const env = s3Env();
const store = createS3Store({ endpoint: env.endpoint, region: env.region, credentials: { accessKeyId: env.accessKeyId, secretAccessKey: env.secretAccessKey } });
const bucket = uniqueName('s3t').toLowerCase();

afterAll(() => store.close());

test('put, get, ranged get, head and list round-trip bytes exactly', async () => {
  await store.ensureBucket(bucket);
  await store.ensureBucket(bucket); // idempotent
  const body = new Uint8Array(10_000).map((_, i) => (i * 7) & 255);
  await store.put({ bucket, key: 'a/b/one.bin' }, body);
  await store.put({ bucket, key: 'a/two.bin' }, body.subarray(0, 10));
  await store.put({ bucket, key: 'z.bin' }, body.subarray(0, 1));
  expect(Buffer.from(await store.get({ bucket, key: 'a/b/one.bin' })).equals(Buffer.from(body))).toBe(true);
  const part = await store.getRange({ bucket, key: 'a/b/one.bin' }, { start: 2880, end: 5760 });
  expect(part.length).toBe(2880);
  expect(part[0]).toBe((2880 * 7) & 255);
  expect(part[2879]).toBe((5759 * 7) & 255);
  expect((await store.getRange({ bucket, key: 'a/b/one.bin' }, { start: 9990, end: 20000 })).length).toBe(10);
  const info = await store.head({ bucket, key: 'a/b/one.bin' });
  expect(info?.size).toBe(10_000);
  expect(await store.head({ bucket, key: 'missing' })).toBeNull();
  expect((await store.list(bucket, 'a/')).map((o) => o.key)).toEqual(['a/b/one.bin', 'a/two.bin']);
});

test('a missing object is ObjectNotFoundError, not retriable', async () => {
  await store.ensureBucket(bucket);
  const err = await store.get({ bucket, key: 'nope.fits' }).catch((e) => e);
  expect(err).toBeInstanceOf(ObjectNotFoundError);
  expect(err.retriable).toBe(false);
  expect(err.message).toMatch(/nope\.fits/);
});

test('wrong credentials fail with a ServiceError that does not contain the secret', async () => {
  const secret = 'wrong-secret-value-123456';
  const bad = createS3Store({ endpoint: env.endpoint, region: env.region, credentials: { accessKeyId: env.accessKeyId, secretAccessKey: secret }, maxAttempts: 1 });
  const err = await bad.get({ bucket, key: 'a/two.bin' }).catch((e) => e);
  await bad.close();
  expect(err).toBeInstanceOf(ServiceError);
  expect(err.message).toMatch(/S3 GET/);
  expect(err.message).not.toContain(secret);
  expect(err.message).not.toContain(env.secretAccessKey);
});

test('a server that is down gives a retriable ServiceError', async () => {
  const down = createS3Store({ endpoint: 'http://127.0.0.1:9', region: env.region, credentials: { accessKeyId: 'x', secretAccessKey: 'y' }, maxAttempts: 1 });
  const err = await down.get({ bucket, key: 'k' }).catch((e) => e);
  await down.close();
  expect(err).toBeInstanceOf(ServiceError);
  expect(err.retriable).toBe(true);
});

/** Local directory ObjectStore: the same contract as S3, atomic writes, and no escape from the bucket. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createLocalStore } from '../../src/adapters/local-store';
import { ObjectNotFoundError } from '../../src/adapters/ports';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ds-local-'));
const store = createLocalStore(root);

test('put/get/range/head/list round trip', async () => {
  await store.ensureBucket('bkt');
  const body = new Uint8Array(6000).map((_, i) => i & 255);
  await store.put({ bucket: 'bkt', key: 'p/q/one.bin' }, body);
  await store.put({ bucket: 'bkt', key: 'p/two.bin' }, body.subarray(0, 3));
  await store.put({ bucket: 'bkt', key: 'pz.bin' }, body.subarray(0, 1));
  expect(Array.from(await store.get({ bucket: 'bkt', key: 'p/q/one.bin' }))).toEqual(Array.from(body));
  expect(Array.from(await store.getRange({ bucket: 'bkt', key: 'p/q/one.bin' }, { start: 2880, end: 2884 }))).toEqual([2880 & 255, 2881 & 255, 2882 & 255, 2883 & 255]);
  expect((await store.getRange({ bucket: 'bkt', key: 'p/q/one.bin' }, { start: 5990, end: 9000 })).length).toBe(10);
  expect((await store.head({ bucket: 'bkt', key: 'p/q/one.bin' }))?.size).toBe(6000);
  expect(await store.head({ bucket: 'bkt', key: 'nope' })).toBeNull();
  expect((await store.list('bkt', 'p/')).map((o) => o.key)).toEqual(['p/q/one.bin', 'p/two.bin']);
  expect((await store.list('bkt', 'p')).map((o) => o.key)).toEqual(['p/q/one.bin', 'p/two.bin', 'pz.bin']);
  await expect(store.get({ bucket: 'bkt', key: 'missing.fits' })).rejects.toBeInstanceOf(ObjectNotFoundError);
  // No temporary files are left behind.
  expect(fs.readdirSync(path.join(root, 'bkt', 'p')).some((f) => f.endsWith('.tmp'))).toBe(false);
});

test('keys and buckets cannot leave the store', async () => {
  for (const key of ['../escape', 'a/../../escape', '/abs', 'a//b', './a']) {
    await expect(store.put({ bucket: 'bkt', key }, new Uint8Array(1))).rejects.toThrow(/not a clean relative path/);
  }
  await expect(store.ensureBucket('../up')).rejects.toThrow(/bucket name must be/);
  expect(fs.existsSync(path.join(root, 'escape'))).toBe(false);
  expect(fs.existsSync(path.join(path.dirname(root), 'escape'))).toBe(false);
});

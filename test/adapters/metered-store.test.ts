/** The metered ObjectStore counts bytes and requests and passes every call through unchanged. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createLocalStore } from '../../src/adapters/local-store';
import { meteredStore } from '../../src/adapters/metered-store';
import { ObjectNotFoundError } from '../../src/adapters/ports';

test('counts GET/PUT bytes and requests of a real (local) store', async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ds-meter-'));
  const store = meteredStore(createLocalStore(root));
  await store.ensureBucket('bkt');
  const body = new Uint8Array(1000).map((_, i) => i % 251);
  await store.put({ bucket: 'bkt', key: 'a/b.bin' }, body);
  expect(Array.from(await store.get({ bucket: 'bkt', key: 'a/b.bin' }))).toEqual(Array.from(body));
  expect(Array.from(await store.getRange({ bucket: 'bkt', key: 'a/b.bin' }, { start: 10, end: 110 }))).toEqual(Array.from(body.subarray(10, 110)));
  expect((await store.head({ bucket: 'bkt', key: 'a/b.bin' }))?.size).toBe(1000);
  expect((await store.list('bkt', 'a/')).map((o) => o.key)).toEqual(['a/b.bin']);
  await expect(store.get({ bucket: 'bkt', key: 'missing' })).rejects.toBeInstanceOf(ObjectNotFoundError);
  expect(store.traffic).toEqual({ getRequests: 3, bytesRead: 1100, putRequests: 1, bytesWritten: 1000, headRequests: 1, listRequests: 1 });
  fs.rmSync(root, { recursive: true, force: true });
});

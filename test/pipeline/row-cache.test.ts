/**
 * The worker's row-band cache: one fetch per band of an image version, shared by concurrent
 * requests, bounded in bytes (least recently used goes first), failures not kept.
 */
import { RowBandCache } from '../../src/pipeline/row-cache';

const W = 10;
function rows(y0: number, y1: number, tag: number): Float32Array {
  return new Float32Array((y1 - y0) * W).fill(tag);
}

test('a band is fetched once per object version; other bands and versions fetch their own', async () => {
  const cache = new RowBandCache(1 << 20);
  let fetches = 0;
  const fetch = (tag: number) => async () => {
    fetches++;
    return rows(0, 5, tag);
  };
  const a = await cache.get('img#v1', 0, 5, W, fetch(1));
  const b = await cache.get('img#v1', 0, 5, W, fetch(2));
  expect(fetches).toBe(1);
  expect(b.rows).toBe(a.rows);
  const c = await cache.get('img#v2', 0, 5, W, fetch(3)); // replaced image: new etag, new rows
  expect(c.rows[0]).toBe(3);
  expect(fetches).toBe(2);
  expect(cache.stats).toMatchObject({ hits: 1, misses: 2 });
});

test('concurrent requests for one band share one fetch', async () => {
  const cache = new RowBandCache(1 << 20);
  let fetches = 0;
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const fetch = async () => {
    fetches++;
    await gate;
    return rows(3, 7, 9);
  };
  const pending = [cache.get('i#e', 3, 7, W, fetch), cache.get('i#e', 3, 7, W, fetch), cache.get('i#e', 3, 7, W, fetch)];
  release();
  const got = await Promise.all(pending);
  expect(fetches).toBe(1);
  expect(got.every((g) => g.rows === got[0].rows && g.y0 === 3 && g.y1 === 7)).toBe(true);
});

test('bounded in bytes: the least recently used band is evicted; a band over the bound is not kept', async () => {
  const band = 4 * W * 4; // 4 rows of W float32
  const cache = new RowBandCache(2 * band);
  const fetched: string[] = [];
  const get = (y0: number) => cache.get('i#e', y0, y0 + 4, W, async () => (fetched.push(`${y0}`), rows(y0, y0 + 4, y0)));
  await get(0);
  await get(4);
  await get(0); // 0 is now the most recently used
  await get(8); // evicts 4
  expect(cache.stats.bytes).toBeLessThanOrEqual(2 * band);
  await get(0);
  await get(4);
  expect(fetched).toEqual(['0', '4', '8', '4']);
  expect(cache.stats.evictions).toBeGreaterThanOrEqual(1);

  const small = new RowBandCache(band - 1);
  let n = 0;
  await small.get('i#e', 0, 4, W, async () => (n++, rows(0, 4, 1)));
  await small.get('i#e', 0, 4, W, async () => (n++, rows(0, 4, 1)));
  expect(n).toBe(2);
  expect(small.stats.bytes).toBe(0);
});

test('a failed fetch is not cached (the retry fetches again); a wrong-sized band is an error', async () => {
  const cache = new RowBandCache(1 << 20);
  await expect(cache.get('i#e', 0, 2, W, async () => { throw new Error('S3 down'); })).rejects.toThrow('S3 down');
  await new Promise((r) => setImmediate(r));
  expect(cache.stats.bytes).toBe(0);
  const ok = await cache.get('i#e', 0, 2, W, async () => rows(0, 2, 5));
  expect(ok.rows[0]).toBe(5);
  await expect(cache.get('i#e', 2, 4, W, async () => new Float32Array(3))).rejects.toThrow(/expected 20/);
  expect(() => new RowBandCache(-1)).toThrow(RangeError);
});

/**
 * A bounded, least-recently-used cache of decoded full-width row bands of FITS images, for the
 * worker stage (issue 6, read amplification).
 *
 * FITS rows are contiguous, so the cheapest read of a tile window is one ranged GET of the window's
 * rows at full image width. Without a cache every tile of a band of rows fetches (and decodes) that
 * same strip again: with 4 tile columns the image is read 4 times. Ingest sends all tiles of an
 * image to one partition, in row-major order, so one worker sees a band's tiles one after another;
 * with this cache the strip is fetched once per band (≈ 1.03 × the image at 1024-px tiles and
 * 16-px overlap, the overlap rows being read by both neighbouring bands).
 *
 * Entries are keyed by object version (bucket/key#etag) and row range, so a replaced image never
 * serves stale rows. Concurrent requests for one band share one fetch. The bound is in bytes; an
 * entry larger than the bound is fetched and returned but not kept.
 */

export interface RowBand {
  /** Full-width rows [y0, y1) of the image, row-major float32. */
  readonly rows: Float32Array;
  readonly width: number;
  readonly y0: number;
  readonly y1: number;
}

export interface RowCacheStats {
  hits: number;
  misses: number;
  /** Bytes currently held. */
  bytes: number;
  evictions: number;
}

export class RowBandCache {
  private readonly entries = new Map<string, { band: Promise<RowBand>; bytes: number }>();
  private held = 0;
  readonly stats: RowCacheStats = { hits: 0, misses: 0, bytes: 0, evictions: 0 };

  /** `maxBytes` 0 disables caching (every request fetches). */
  constructor(readonly maxBytes: number) {
    if (!(Number.isSafeInteger(maxBytes) && maxBytes >= 0)) throw new RangeError(`row cache size must be an integer >= 0 bytes, got ${maxBytes}`);
  }

  /**
   * The band [y0, y1) of object version `version`, from the cache or from `fetch` (whose result
   * must be full-width rows of `width` pixels). A failed fetch is not cached.
   */
  async get(version: string, y0: number, y1: number, width: number, fetch: () => Promise<Float32Array>): Promise<RowBand> {
    const id = `${version}\u0000${y0}:${y1}`;
    const found = this.entries.get(id);
    if (found) {
      this.stats.hits++;
      // Most recently used goes last.
      this.entries.delete(id);
      this.entries.set(id, found);
      return found.band;
    }
    this.stats.misses++;
    const bytes = (y1 - y0) * width * 4;
    const band = fetch().then((rows) => {
      if (rows.length !== (y1 - y0) * width) throw new RangeError(`row band ${y0}-${y1} has ${rows.length} pixels, expected ${(y1 - y0) * width}`);
      return { rows, width, y0, y1 };
    });
    if (bytes > this.maxBytes) return band;
    const entry = { band, bytes };
    this.entries.set(id, entry);
    this.held += bytes;
    band.catch(() => {
      if (this.entries.get(id) === entry) {
        this.entries.delete(id);
        this.held -= bytes;
        this.stats.bytes = this.held;
      }
    });
    this.evict();
    this.stats.bytes = this.held;
    return band;
  }

  private evict(): void {
    for (const [id, entry] of this.entries) {
      if (this.held <= this.maxBytes) break;
      this.entries.delete(id);
      this.held -= entry.bytes;
      this.stats.evictions++;
    }
  }

  clear(): void {
    this.entries.clear();
    this.held = 0;
    this.stats.bytes = 0;
  }
}

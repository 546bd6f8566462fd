/**
 * Disjoint-set forest (union-find) over dense integer ids 0..n-1, stored in typed arrays.
 *
 * Used by thresholded blob detection (src/detect/tbd.ts) to grow blobs while pixels are
 * activated in decreasing order of CNN output. Union by size keeps trees shallow; path halving
 * in `find` keeps later look-ups nearly O(1) without recursion.
 *
 * An id whose parent is -1 is "not yet added": the sweep adds pixels one by one, and the
 * count of sets is maintained incrementally (add: +1, successful union: -1).
 */
export class UnionFind {
  /** parent[i] = parent id, i for a root, -1 for an id not yet added. */
  readonly parent: Int32Array;
  /** size[r] = number of members of the set rooted at r (valid only for roots). */
  readonly size: Int32Array;
  /** Number of disjoint sets among the added ids. */
  count = 0;

  constructor(n: number) {
    if (!Number.isSafeInteger(n) || n < 0 || n > 0x7fffffff) {
      throw new RangeError(`union-find size must be an integer in [0, 2^31), got ${n}`);
    }
    this.parent = new Int32Array(n).fill(-1);
    this.size = new Int32Array(n);
  }

  /** Adds id as a singleton set. Adding an id twice is a caller bug and is not checked. */
  add(id: number): void {
    this.parent[id] = id;
    this.size[id] = 1;
    this.count++;
  }

  isAdded(id: number): boolean {
    return this.parent[id] !== -1;
  }

  /** Root of id's set (id must have been added). Path halving. */
  find(id: number): number {
    return findRoot(this.parent, id);
  }

  /** Merges the sets of a and b (both added). Returns true if they were distinct. */
  union(a: number, b: number): boolean {
    const merged = unionBySize(this.parent, this.size, a, b);
    if (merged) this.count--;
    return merged;
  }

  /** Removes every id (all back to "not added"). */
  reset(): void {
    this.parent.fill(-1);
    this.size.fill(0);
    this.count = 0;
  }
}

/** Root of `id` with path halving. Exposed as a plain function so hot loops avoid a method call. */
export function findRoot(parent: Int32Array, id: number): number {
  let x = id;
  let p = parent[x];
  while (p !== x) {
    const grand = parent[p];
    parent[x] = grand;
    x = grand;
    p = parent[x];
  }
  return x;
}

/** Union by size of the sets containing a and b. Returns true if they were distinct. */
export function unionBySize(parent: Int32Array, size: Int32Array, a: number, b: number): boolean {
  let ra = findRoot(parent, a);
  let rb = findRoot(parent, b);
  if (ra === rb) return false;
  if (size[ra] < size[rb]) {
    const t = ra;
    ra = rb;
    rb = t;
  }
  parent[rb] = ra;
  size[ra] += size[rb];
  return true;
}

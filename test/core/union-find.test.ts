import { UnionFind, findRoot, unionBySize } from '../../src/core/union-find';

describe('UnionFind', () => {
  test('counts sets as ids are added and joined', () => {
    const uf = new UnionFind(6);
    expect(uf.isAdded(0)).toBe(false);
    for (const id of [0, 1, 2, 3]) uf.add(id);
    expect(uf.count).toBe(4);
    expect(uf.union(0, 1)).toBe(true);
    expect(uf.union(2, 3)).toBe(true);
    expect(uf.union(1, 0)).toBe(false); // already one set
    expect(uf.count).toBe(2);
    expect(uf.union(3, 0)).toBe(true);
    expect(uf.count).toBe(1);
    const root = uf.find(2);
    for (const id of [0, 1, 3]) expect(uf.find(id)).toBe(root);
    expect(uf.size[root]).toBe(4);
    expect(uf.isAdded(4)).toBe(false);
    uf.reset();
    expect(uf.count).toBe(0);
    expect(uf.isAdded(0)).toBe(false);
  });

  test('union by size hangs the smaller tree under the larger root', () => {
    const parent = Int32Array.from([0, 0, 2]);
    const size = Int32Array.from([2, 1, 1]);
    expect(unionBySize(parent, size, 2, 1)).toBe(true);
    expect(parent[2]).toBe(0);
    expect(size[0]).toBe(3);
  });

  test('findRoot halves paths on a chain', () => {
    // chain 4 → 3 → 2 → 1 → 0
    const parent = Int32Array.from([0, 0, 1, 2, 3]);
    expect(findRoot(parent, 4)).toBe(0);
    expect(parent[4]).toBe(2); // halved: 4 now points at its former grandparent
    expect(findRoot(parent, 4)).toBe(0);
  });

  test('rejects a bad size', () => {
    expect(() => new UnionFind(-1)).toThrow(/union-find size must be an integer in \[0, 2\^31\), got -1/);
    expect(() => new UnionFind(1.5)).toThrow(RangeError);
  });
});

/** Object keys from untrusted names never leave their prefix (issue 6, security). */
import fc from 'fast-check';
import { imageIdFromKey, joinKey, outputLayout, safeSegment } from '../../src/pipeline/keys';
import { RecentSet } from '../../src/pipeline/context';

test('clean names are kept; crafted ones are reduced and hashed', () => {
  expect(imageIdFromKey('incoming/field_0042.fits')).toBe('field_0042');
  expect(imageIdFromKey('a/b/img.000.FITS.gz')).toBe('img.000');
  for (const evil of ['..', '../..', '..%2f..%2fetc', '.hidden', 'a b/../c', '\u0000x', '', '0.', 'x...']) {
    const s = safeSegment(evil);
    expect(s).toMatch(/^[A-Za-z0-9_-][A-Za-z0-9._-]*$/);
    expect(s).not.toContain('..');
    expect(s).not.toContain('/');
  }
  expect(safeSegment('a b')).not.toBe(safeSegment('a_b')); // changed names carry a hash: no collision
});

test('property: any name gives a single safe segment, and layout keys stay under the prefix', () => {
  const layout = outputLayout('deepsource', 'run-1');
  fc.assert(
    fc.property(fc.oneof(fc.string({ maxLength: 300 }), fc.constantFrom('0.', '.', '..', 'a.', '../x.fits', 'x..fits')), fc.nat(99999), (name, tile) => {
      const id = imageIdFromKey(name);
      expect(id).toMatch(/^[A-Za-z0-9_-](?:[A-Za-z0-9._-]{0,118}[A-Za-z0-9_-])?$/);
      expect(id.includes('..')).toBe(false);
      for (const key of [layout.tileData(id, tile, 'v0123456789ab'), layout.catalogueParquet(id), layout.tileMetrics(id)]) {
        expect(key.startsWith('deepsource/run-1/')).toBe(true);
        expect(key.split('/').some((s) => s === '..' || s === '.' || s === '')).toBe(false);
      }
    }),
  );
});

test('joinKey refuses unsafe segments and prefixes', () => {
  expect(() => joinKey('ok', '../x')).toThrow(/key segment "..\/x" is not safe/);
  expect(() => joinKey('a/../b', 'x')).toThrow(/must not contain/);
  expect(joinKey('/a/b/', 'c', 'd.f32')).toBe('a/b/c/d.f32');
});

test('RecentSet forgets the oldest entries past its limit', () => {
  const s = new RecentSet(3);
  for (const x of ['a', 'b', 'c']) s.add(x);
  s.add('a'); // refreshes a
  s.add('d'); // evicts b, the oldest
  expect(['a', 'b', 'c', 'd'].map((x) => s.has(x))).toEqual([true, false, true, true]);
  expect(s.size).toBe(3);
});

/** Property tests: any strings and any floats survive a write/read round trip in every readable format. */
import fc from 'fast-check';
import { decodeCatalogue } from '../../src/catalogue/read';
import { encodeCatalogue, type CatalogueFormat } from '../../src/catalogue/write';
import type { ColumnTable } from '../../src/catalogue/table';

function bytesOf(encoded: Uint8Array | string[]): Uint8Array {
  return encoded instanceof Uint8Array ? encoded : Buffer.from(encoded.join(''), 'utf8');
}

const EXT: Record<string, string> = { parquet: 'parquet', csv: 'csv', arrow: 'arrow', fits: 'fits', votable: 'vot' };

/** What each format can carry exactly: XML cannot hold C0 controls or lone surrogates. */
function representable(format: CatalogueFormat, s: string): boolean {
  // FITS escapes everything outside printable ASCII, so it carries any string.
  if (format === 'fits') return true;
  if (format === 'votable') return !/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udfff]/.test(s) && !/\r/.test(s);
  // UTF-8 cannot encode lone surrogates (they become U+FFFD in every byte format).
  return !/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(s);
}

describe.each(['parquet', 'csv', 'arrow', 'fits', 'votable'] as CatalogueFormat[])('%s', (format) => {
  test('strings, float64, float32, int32 and int64 round-trip exactly', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            s: fc.string({ unit: 'binary', maxLength: 20 }).filter((s) => representable(format, s)),
            d: fc.double(),
            f: fc.float(),
            i: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
            b: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
          }),
          { maxLength: 12 },
        ),
        fc.string({ unit: 'binary', maxLength: 30 }).filter((s) => representable(format, s) && !/\r/.test(s)),
        (rows, metaValue) => {
          const table: ColumnTable = {
            columns: {
              s: rows.map((r) => r.s),
              d: Float64Array.from(rows, (r) => r.d),
              f: Float32Array.from(rows, (r) => r.f),
              i: Int32Array.from(rows, (r) => r.i),
              b: BigInt64Array.from(rows, (r) => r.b),
            },
            info: { s: { unit: '', description: 'text' }, d: { unit: 'deg', description: 'x' }, f: { unit: 'Jy/beam', description: 'y' }, i: { unit: '', description: 'z' }, b: { unit: '', description: 'w' } },
            metadata: { 'deepsource.note': metaValue },
          };
          const back = decodeCatalogue(bytesOf(encodeCatalogue(table, format)), `t.${EXT[format]}`);
          expect(back.columns.s).toEqual(table.columns.s);
          expect(Array.from(back.columns.d as Float64Array)).toEqual(Array.from(table.columns.d as Float64Array));
          expect(Array.from(back.columns.f as Float32Array)).toEqual(Array.from(table.columns.f as Float32Array));
          expect(Array.from(back.columns.i as Int32Array)).toEqual(Array.from(table.columns.i as Int32Array));
          expect(Array.from(back.columns.b as BigInt64Array)).toEqual(Array.from(table.columns.b as BigInt64Array));
          expect(back.metadata['deepsource.note']).toBe(metaValue);
        },
      ),
      { numRuns: 150 },
    );
  });
});

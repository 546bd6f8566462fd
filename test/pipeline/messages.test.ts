/** Wire messages: golden fixtures per schema version, validation on encode and decode. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { canonicalJson, decodeMessage, encodeMessage, MESSAGE_KINDS, SchemaError, SCHEMAS_DIR, type TileWorkMessage } from '../../src/pipeline/messages';

const fixture = (kind: string, version = 1): Buffer => fs.readFileSync(path.join(SCHEMAS_DIR, 'fixtures', `v${version}`, `${kind}.json`));

describe.each(MESSAGE_KINDS)('%s v1 golden fixture', (kind) => {
  test('decodes, validates, and re-encodes to the same bytes', () => {
    const bytes = fixture(kind);
    const message = decodeMessage(kind, bytes);
    expect((message as { schema: string }).schema).toBe(`deepsource.${kind}/1`);
    expect(Buffer.from(encodeMessage(kind, message as never)).equals(bytes)).toBe(true);
  });
  test('an unknown field is refused on decode', () => {
    const value = { ...JSON.parse(fixture(kind).toString('utf8')), extra: 1 };
    expect(() => decodeMessage(kind, Buffer.from(JSON.stringify(value)))).toThrow(/must NOT have additional properties/);
  });
});

test('tile-work: hand-checked field values of the golden fixture', () => {
  const m = decodeMessage('tile-work', fixture('tile-work'));
  expect(m.tile.window).toEqual({ x0: 803, y0: 803, x1: 1657, y1: 1657 });
  expect(m.tiling.overlap).toBe(16);
  expect(m.source.size).toBe(67118400);
});

test('encode validates on produce: a wrong value names the field', () => {
  const m = decodeMessage('tile-work', fixture('tile-work'));
  const bad = { ...m, noiseSigma: -1 } as TileWorkMessage;
  expect(() => encodeMessage('tile-work', bad)).toThrow(/outgoing tile-work message: deepsource.tile-work\/1 invalid: \/noiseSigma must be > 0/);
});

test('decode refuses non-JSON, non-UTF-8, the wrong kind, an unknown version and traversal ids', () => {
  expect(() => decodeMessage('image', new Uint8Array([0xff, 0xfe]))).toThrow(SchemaError);
  expect(() => decodeMessage('image', Buffer.from('{not json'))).toThrow(/not UTF-8 JSON/);
  expect(() => decodeMessage('image', fixture('tile-work'))).toThrow(/expected schema "deepsource.image\/N", got "deepsource.tile-work\/1"/);
  const v2 = { ...JSON.parse(fixture('image').toString('utf8')), schema: 'deepsource.image/2' };
  expect(() => decodeMessage('image', Buffer.from(JSON.stringify(v2)))).toThrow(/no schema for deepsource.image version 2/);
  const evil = { ...JSON.parse(fixture('image').toString('utf8')), imageId: '../../etc' };
  expect(() => decodeMessage('image', Buffer.from(JSON.stringify(evil)))).toThrow(/imageId must match pattern/);
});

test('canonical JSON sorts keys at every level', () => {
  expect(canonicalJson({ b: 1, a: { d: [{ z: 1, y: 2 }], c: null } })).toBe('{"a":{"c":null,"d":[{"y":2,"z":1}]},"b":1}');
});

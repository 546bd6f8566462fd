import fc from 'fast-check';
import { FormatError } from '../../src/core/errors';
import { CardSyntaxError, formatCard, headerFromCards, parseCard, parseCards } from '../../src/fits/header';
import type { FitsCard } from '../../src/fits/types';
import { card } from './fitsBytes';

describe('parseCard', () => {
  it('reads integers, floats (E and D exponents), logicals, strings and comments', () => {
    expect(parseCard(card('NAXIS1', '512', 'length of axis 1'))).toEqual({ key: 'NAXIS1', value: 512, comment: 'length of axis 1' });
    expect(parseCard(card('CRPIX1', '-2.371895431541E+02'))).toEqual({ key: 'CRPIX1', value: -237.1895431541 });
    expect(parseCard(card('CDELT1', '-1.5D-03'))).toEqual({ key: 'CDELT1', value: -0.0015 });
    expect(parseCard(card('X', '.5'))).toEqual({ key: 'X', value: 0.5 });
    expect(parseCard(card('SIMPLE', 'T'))).toEqual({ key: 'SIMPLE', value: true });
    expect(parseCard(card('EXTEND', 'F'))).toEqual({ key: 'EXTEND', value: false });
    expect(parseCard(card('BUNIT', "'JY/BEAM '", 'unit'))).toEqual({ key: 'BUNIT', value: 'JY/BEAM', comment: 'unit' });
    expect(parseCard(card('OBJECT', "'O''Brien''s / field'"))).toEqual({ key: 'OBJECT', value: "O'Brien's / field" });
    expect(parseCard(card('EMPTY', "''"))).toEqual({ key: 'EMPTY', value: '' });
    // leading blanks in a string are significant, trailing ones are not (FITS 4.2.1.1)
    expect(parseCard(card('S', "'  ab  '"))).toEqual({ key: 'S', value: '  ab' });
    // undefined value
    expect(parseCard('UNDEF   =                      / nothing'.padEnd(80))).toEqual({ key: 'UNDEF', value: null, comment: 'nothing' });
  });

  it('reads commentary cards as text', () => {
    expect(parseCard(card('HISTORY AIPS   CLEAN BMAJ=  1.2500E-02 BMIN=  1.2500E-02 BPA=   0.00'))).toEqual({
      key: 'HISTORY',
      comment: 'AIPS   CLEAN BMAJ=  1.2500E-02 BMIN=  1.2500E-02 BPA=   0.00',
    });
    expect(parseCard(card('COMMENT   FITS (Flexible Image Transport System)'))).toEqual({ key: 'COMMENT', comment: '  FITS (Flexible Image Transport System)' });
    expect(parseCard(' '.repeat(80))).toEqual({ key: '' });
    // a HISTORY card containing '= ' is still commentary
    expect(parseCard(card('HISTORY = not a value'))).toEqual({ key: 'HISTORY', comment: '= not a value' });
  });

  it('accepts lower-case keywords as upper case (invalid FITS, common in the wild)', () => {
    expect(parseCard(card('naxis1', '3'))).toEqual({ key: 'NAXIS1', value: 3 });
  });

  it('reads HIERARCH cards', () => {
    expect(parseCard('HIERARCH ESO DET CHIP = 3 / chip'.padEnd(80))).toEqual({ key: 'ESO DET CHIP', value: 3, comment: 'chip' });
  });

  it.each([
    ['non-ASCII byte', 'BUNIT   = \'Jy\u00e9\''.padEnd(80), /non-printable/],
    ['control character', 'BUNIT   = \'Jy\t\''.padEnd(80), /non-printable/],
    ['unterminated string', card('BUNIT', "'JY/BEAM"), /unterminated/],
    ['garbage value', card('NAXIS1', 'twelve'), /cannot parse the value of NAXIS1/],
    ['two numbers', card('NAXIS1', '12 13'), /cannot parse/],
    ['text after string', "OBJECT  = 'abc' def".padEnd(80), /unexpected text/],
    ['bad keyword', card('NAX IS', '3'), /invalid keyword/],
    ['keyword with a leading blank', card(' NAXIS', '3'), /invalid keyword/],
  ])('rejects %s', (_name, text, pattern) => {
    expect(() => parseCard(text)).toThrow(CardSyntaxError);
    expect(() => parseCard(text)).toThrow(pattern);
  });
});

describe('parseCards', () => {
  it('joins CONTINUE long strings (FITS Standard 4.2.1.2 example)', () => {
    const cards = parseCards(
      [
        "STRKEY  = 'This keyword value is continued &'  / first part".padEnd(80),
        "CONTINUE  'over multiple keyword cards.&'".padEnd(80),
        "CONTINUE  '' / last part".padEnd(80),
        card('NEXT', '1'),
      ],
      'test.fits',
    );
    expect(cards).toEqual([
      { key: 'STRKEY', value: 'This keyword value is continued over multiple keyword cards.', comment: 'first part last part' },
      { key: 'NEXT', value: 1 },
    ]);
  });

  it('keeps a CONTINUE card that follows nothing continuable as its own card', () => {
    expect(parseCards([card('A', '1'), "CONTINUE  'x'".padEnd(80)], 'f')).toEqual([{ key: 'A', value: 1 }, { key: 'CONTINUE', value: 'x' }]);
  });

  it('turns a bad card into one FormatError naming the file and the card', () => {
    const run = () => parseCards([card('SIMPLE', 'T'), card('BITPIX', '1.5.3')], '/data/x.fits');
    expect(run).toThrow(FormatError);
    expect(run).toThrow(/^\/data\/x\.fits: bad header card 2 \(cannot parse the value of BITPIX/);
  });
});

describe('FitsHeader', () => {
  it('looks up the last value of a keyword, typed, case-insensitively, and lists HISTORY', () => {
    const header = headerFromCards([
      { key: 'BMAJ', value: 1 },
      { key: 'HISTORY', comment: 'one' },
      { key: 'BMAJ', value: 2 },
      { key: 'BUNIT', value: 'Jy/beam' },
      { key: 'HISTORY', comment: 'two' },
      { key: 'HISTORY' },
    ]);
    expect(header.get('bmaj')).toBe(2);
    expect(header.getNumber('BUNIT')).toBeUndefined();
    expect(header.getString('BUNIT')).toBe('Jy/beam');
    expect(header.has('HISTORY')).toBe(false);
    expect(header.has('NOPE')).toBe(false);
    expect(header.history()).toEqual(['one', 'two', '']);
  });
});

describe('formatCard', () => {
  it('writes fixed-format values (value right-justified to column 30)', () => {
    expect(formatCard({ key: 'NAXIS1', value: 512 })).toEqual([card('NAXIS1', '512')]);
    expect(formatCard({ key: 'SIMPLE', value: true, comment: 'ok' })).toEqual([card('SIMPLE', 'T', 'ok')]);
    expect(formatCard({ key: 'BUNIT', value: 'JY' })).toEqual([card('BUNIT', "'JY      '")]);
    expect(formatCard({ key: 'CDELT1', value: -1e-7 })[0]).toMatch(/^CDELT1  = +-1\.0E-7 +$/);
    expect(formatCard({ key: 'HISTORY', comment: 'hello' })).toEqual([card('HISTORY hello')]);
  });

  it('rejects what FITS cannot hold', () => {
    expect(() => formatCard({ key: 'TOOLONGKEY', value: 1 })).toThrow(/invalid FITS keyword/);
    expect(() => formatCard({ key: 'X', value: NaN })).toThrow(/must be finite/);
    expect(() => formatCard({ key: 'X', value: 'caf\u00e9' })).toThrow(/printable ASCII/);
  });

  const printable = fc.string({ unit: fc.constantFrom(...' abcXYZ019\'&/=-_.'.split('')), maxLength: 300 });
  const keyword = fc.stringMatching(/^[A-Z][A-Z0-9_-]{0,7}$/).filter((k) => !['HISTORY', 'COMMENT', 'CONTINUE', 'HIERARCH', 'END'].includes(k));

  it('round-trips values, long strings and comments through parseCards (property)', () => {
    fc.assert(
      fc.property(
        keyword,
        fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.integer(), fc.boolean(), printable),
        fc.option(fc.string({ unit: fc.constantFrom(...'abc XYZ 01'.split('')), maxLength: 30 }), { nil: undefined }),
        (key, value, comment) => {
          const input: FitsCard = comment === undefined ? { key, value } : { key, value, comment };
          const lines = formatCard(input);
          for (const line of lines) expect(line).toHaveLength(80);
          const [parsed] = parseCards(lines, 'prop');
          const expected = typeof value === 'string' ? value.trimEnd() : Object.is(value, -0) ? 0 : value;
          expect(parsed.key).toBe(key);
          expect(parsed.value).toEqual(expected);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('splits long HISTORY text at spaces, so joining the cards with one space gives the text back', () => {
    const words = 'The quick brown fox jumps over the lazy dog and keeps running through the long grass of the field';
    const lines = formatCard({ key: 'HISTORY', comment: words });
    expect(lines).toEqual([
      // "...through the" would be 73 characters, one over the 72 a card holds
      card('HISTORY The quick brown fox jumps over the lazy dog and keeps running through'),
      card('HISTORY the long grass of the field'),
    ]);
    expect(parseCards(lines, 't').map((c) => c.comment).join(' ')).toBe(words);
  });

  it('splits long HISTORY text without spaces across cards without losing characters', () => {
    const text = 'x'.repeat(72) + 'y'.repeat(10);
    const lines = formatCard({ key: 'HISTORY', comment: text });
    expect(lines).toEqual([card(`HISTORY ${'x'.repeat(72)}`), card(`HISTORY ${'y'.repeat(10)}`)]);
  });
});

import { UserInputError } from '../../src/core/errors';
import { beamFromHeader, beamSizeDeg, parseBeamOption, requireBeam } from '../../src/fits/beam';
import { headerFromCards, parseCards } from '../../src/fits/header';
import { card } from './fitsBytes';

describe('beamFromHeader', () => {
  it('uses BMAJ/BMIN/BPA keywords (degrees)', () => {
    const header = headerFromCards([{ key: 'BMAJ', value: 0.015 }, { key: 'BMIN', value: 0.0068 }, { key: 'BPA', value: 5 }]);
    expect(beamFromHeader(header)).toEqual({ bmajDeg: 0.015, bminDeg: 0.0068, bpaDeg: 5, source: 'header' });
  });

  it('falls back to the AIPS CLEAN HISTORY card (the last one wins)', () => {
    const header = headerFromCards(
      parseCards(
        [
          card('HISTORY AIPS   CLEAN BMAJ=  1.0000E-02 BMIN=  9.0000E-03 BPA=  10.00'),
          card('HISTORY AIPS   CLEAN BMAJ=  1.2500E-02 BMIN=  1.2500E-02 BPA=   0.00'),
          card('HISTORY AIPS   CLEAN NITER=        1 PRODUCT=1   / NORMAL'),
        ],
        't',
      ),
    );
    expect(beamFromHeader(header)).toEqual({ bmajDeg: 0.0125, bminDeg: 0.0125, bpaDeg: 0, source: 'aips-history' });
  });

  it('returns null without a beam, and requireBeam says to use --beam', () => {
    const header = headerFromCards([{ key: 'HISTORY', comment: 'nothing here' }, { key: 'BMAJ', value: 0.01 }]);
    expect(beamFromHeader(header)).toBeNull();
    expect(() => requireBeam(header, 'img.fits')).toThrow(UserInputError);
    expect(() => requireBeam(header, 'img.fits')).toThrow(/^img\.fits: no restoring beam .* give it with --beam/);
  });
});

describe('parseBeamOption and beamSizeDeg', () => {
  it('parses arcsec sizes and a PA, and computes sqrt(BMAJ*BMIN) (paper, eq. 1)', () => {
    expect(parseBeamOption('45')).toEqual({ bmajDeg: 45 / 3600, bminDeg: 45 / 3600, bpaDeg: 0, source: 'user' });
    const beam = parseBeamOption('8, 2, 30');
    expect(beam).toEqual({ bmajDeg: 8 / 3600, bminDeg: 2 / 3600, bpaDeg: 30, source: 'user' });
    expect(beamSizeDeg(beam) * 3600).toBeCloseTo(4, 12);
    for (const bad of ['', 'x', '-3', '0', '1,2,3,4', '5,-1']) expect(() => parseBeamOption(bad)).toThrow(/--beam must be BMAJ\[,BMIN\[,BPA\]\]/);
  });
});

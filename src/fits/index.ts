/** Public API of the FITS/WCS package (ARCHITECTURE.md: src/fits depends on core only). */
export type { Beam, FitsCard, FitsFile, FitsHeader, FitsValue } from './types';
export { BLOCK_LENGTH, CARD_LENGTH, formatCard, formatHeaderBlocks, headerFromCards, parseCard, parseCards } from './header';
export { decodePixels, fileByteSource, imageLayout, memoryByteSource, openFits, openFitsSource, parseHeaderBytes, readFitsImage } from './read';
export type { Bitpix, FitsByteSource, FitsImageFile, ImageLayout, ReadFitsImageOptions } from './read';
export { encodeFitsImage, writeFileAtomic, writeFitsImage } from './write';
export type { WriteFitsOptions } from './write';
export { Wcs, sinWcsCards, wcsParamsFromHeader } from './wcs';
export type { Projection, SinWcsOptions, WcsParams } from './wcs';
export { beamCards, beamFromHeader, beamSizeDeg, parseBeamOption, requireBeam } from './beam';

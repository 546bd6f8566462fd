import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { META, fileSha256, provenanceMetadata, softwareVersion } from '../../src/catalogue/provenance';

test('fileSha256 matches the FIPS 180-2 test vector for "abc"', async () => {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'ds-prov-')), 'abc.txt');
  fs.writeFileSync(file, 'abc');
  expect(await fileSha256(file)).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  fs.rmSync(path.dirname(file), { recursive: true });
});

test('provenanceMetadata flattens every field to strings under deepsource.*', () => {
  const m = provenanceMetadata('detection', {
    modelName: 'uniform',
    modelVersion: '2',
    tbd: { delta_max: 3, a_min: 4 },
    noiseEstimator: 'border-std',
    noiseValue: 1.5e-5,
    imageName: 'img.fits',
    imageSha256: 'f'.repeat(64),
    beamArcsec: 6,
    extra: { 'x.y': 'z' },
  });
  expect(m).toEqual({
    [META.catalogue]: 'detection',
    [META.softwareVersion]: softwareVersion(),
    [META.modelName]: 'uniform',
    [META.modelVersion]: '2',
    [META.tbd]: '{"delta_max":3,"a_min":4}',
    [META.noiseEstimator]: 'border-std',
    [META.noiseValue]: '0.000015',
    [META.imageName]: 'img.fits',
    [META.imageSha256]: 'f'.repeat(64),
    [META.beamArcsec]: '6',
    'x.y': 'z',
  });
  const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, '../../package.json'), 'utf8'));
  expect(softwareVersion()).toBe(`deepsource-ts ${pkg.version}`);
});

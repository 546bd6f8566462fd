import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { parseChoiceOption } from '../../src/cli/common';
import { UserInputError } from '../../src/core/errors';

const ROOT = join(__dirname, '..', '..');

describe('parseChoiceOption', () => {
  const parse = parseChoiceOption('--objective', ['pc3', 'pc3-cumulative'] as const);
  test('accepts exactly the listed values', () => {
    expect(parse('pc3')).toBe('pc3');
    expect(parse('pc3-cumulative')).toBe('pc3-cumulative');
  });
  test('anything else is a user error naming the option and the choices', () => {
    expect(() => parse('PC3')).toThrow(UserInputError);
    expect(() => parse('pc4')).toThrow('--objective must be pc3 or pc3-cumulative, got "pc4"');
  });
});

describe('choice options on the command line: one line, exit 2', () => {
  // The commands fail on the option before touching any file (dist/ is built by `npm test`'s pretest).
  const cases: Array<[string[], RegExp]> = [
    [['tune', '--data', 'x', '--model', 'natural', '--objective', 'pc4'], /--objective must be pc3 or pc3-cumulative/],
    [['compare', '--data', 'x', '--truth-snr', 'injected'], /--truth-snr must be pixel or catalogue/],
    [['train', '--data', 'x', '--out', 'y', '--lr-schedule', 'step'], /--lr-schedule must be constant or cosine/],
    [['detect', 'x.fits', '--deblend', '1.5'], /--deblend must be <= 0.999, got 1.5/],
    [['tune', '--data', 'x', '--model', 'natural', '--deblend', '0,abc'], /--deblend must be a number, got "abc"/],
  ];
  test.each(cases)('%j', (args, message) => {
    const res = spawnSync(process.execPath, [join(ROOT, 'bin', 'deepsource.js'), ...args], { encoding: 'utf8' });
    expect(res.status).toBe(2);
    expect(res.stderr).toMatch(message);
    expect(res.stderr.trim().split('\n')).toHaveLength(1);
  });
});

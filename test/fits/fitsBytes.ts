/**
 * Test-only FITS byte builder, written independently of src/fits/write.ts so that reader tests do
 * not check the reader against the writer's own formatting. Cards are given as literal text.
 */

/** One 80-character card: `card('BITPIX', '16')` → "BITPIX  =                   16". Values are right-justified to column 30. */
export function card(key: string, value?: string, comment?: string): string {
  if (value === undefined) return key.padEnd(80, ' ').slice(0, 80);
  const head = `${key.padEnd(8, ' ')}= ${value.startsWith("'") ? value : value.padStart(20, ' ')}`;
  return (comment ? `${head} / ${comment}` : head).padEnd(80, ' ').slice(0, 80);
}

export function headerBytes(cards: string[]): Buffer {
  for (const c of cards) if (c.length !== 80) throw new Error(`test card is ${c.length} chars: ${c}`);
  const text = [...cards, 'END'.padEnd(80, ' ')].join('');
  return Buffer.from(text.padEnd(Math.ceil(text.length / 2880) * 2880, ' '), 'latin1');
}

/** Big-endian raw values for a BITPIX (no scaling). */
export function rawData(bitpix: number, values: readonly (number | bigint)[]): Buffer {
  const size = Math.abs(bitpix) / 8;
  const out = Buffer.alloc(values.length * size);
  values.forEach((v, i) => {
    const at = i * size;
    switch (bitpix) {
      case 8: out.writeUInt8(Number(v), at); break;
      case 16: out.writeInt16BE(Number(v), at); break;
      case 32: out.writeInt32BE(Number(v), at); break;
      case 64: out.writeBigInt64BE(BigInt(v), at); break;
      case -32: out.writeFloatBE(Number(v), at); break;
      case -64: out.writeDoubleBE(Number(v), at); break;
      default: throw new Error(`bitpix ${bitpix}`);
    }
  });
  return out;
}

export function padData(data: Buffer): Buffer {
  const length = Math.ceil(data.length / 2880) * 2880;
  return Buffer.concat([data, Buffer.alloc(length - data.length)]);
}

/** A whole primary-HDU image file. `extra` cards follow the NAXISn cards. */
export function imageFile(bitpix: number, axes: number[], values: readonly (number | bigint)[], extra: string[] = []): Buffer {
  const cards = [card('SIMPLE', 'T'), card('BITPIX', String(bitpix)), card('NAXIS', String(axes.length)), ...axes.map((n, i) => card(`NAXIS${i + 1}`, String(n))), ...extra];
  return Buffer.concat([headerBytes(cards), padData(rawData(bitpix, values))]);
}

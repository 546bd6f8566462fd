/** Nothing half-written is left behind (CONTRACT.md): write to a temporary name, then rename. */
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';

export async function writeFileAtomic(file: string, data: Uint8Array | string | readonly (Uint8Array | string)[]): Promise<void> {
  const dir = path.dirname(file);
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    if (Array.isArray(data)) {
      const handle = await fs.open(tmp, 'w');
      try {
        for (const chunk of data as readonly (Uint8Array | string)[]) await handle.write(chunk as Uint8Array);
      } finally {
        await handle.close();
      }
    } else {
      await fs.writeFile(tmp, data as Uint8Array | string);
    }
    await fs.rename(tmp, file);
  } catch (err) {
    await fs.rm(tmp, { force: true });
    throw err;
  }
}

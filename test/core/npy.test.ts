import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { npyHeader, readNpy, writeNpy } from '../../src/npy.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'datum-npy-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const file = (name: string) => path.join(dir, name);
const hasNumpy = spawnSync('python3', ['-c', 'import numpy'], { stdio: 'ignore' }).status === 0;
const python = (code: string) => execFileSync('python3', ['-c', code], { encoding: 'utf8' }).trim();

/** A file made of a hand-written header dict and `data`, to test what numpy itself would not write. */
function rawNpy(name: string, dict: string, data = Buffer.alloc(0), version = 1): string {
  const text = dict.padEnd(Math.ceil((dict.length + 11) / 64) * 64 - 11) + '\n';
  const length = Buffer.alloc(2);
  length.writeUInt16LE(text.length);
  fs.writeFileSync(file(name), Buffer.concat([Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]), length, Buffer.from(text, 'latin1'), data]));
  return file(name);
}

describe('npy', () => {
  it('writes a header numpy accepts, padded so the data starts at a multiple of 64', async () => {
    const header = npyHeader([300, 3, 224, 224]);
    expect(header.length % 64).toBe(0);
    expect(header.subarray(10).toString('latin1')).toMatch(/^\{'descr': '<f4', 'fortran_order': False, 'shape': \(300, 3, 224, 224\), \} *\n$/);
    expect(npyHeader([5]).toString('latin1')).toContain("'shape': (5,)");
    await writeNpy(file('a.npy'), new Float32Array([1, 2.5, -3, 4, 5, 6]), [2, 3]);
    const back = await readNpy(file('a.npy'));
    expect(back.shape).toEqual([2, 3]);
    expect([...back.data]).toEqual([1, 2.5, -3, 4, 5, 6]);
    if (hasNumpy) expect(python(`import numpy as np; a = np.load('${file('a.npy')}'); print(a.dtype, a.shape, a[1, 0])`)).toBe('float32 (2, 3) 4.0');
  });

  it('reads float16 exactly, subnormals and infinities included', async () => {
    const values = [1.5, -(2 ** -24), 65504, Infinity, -2, 0];
    const data = Buffer.alloc(values.length * 2);
    [0x3e00, 0x8001, 0x7bff, 0x7c00, 0xc000, 0x0000].forEach((h, i) => data.writeUInt16LE(h, 2 * i));
    const back = await readNpy(rawNpy('h.npy', "{'descr': '<f2', 'fortran_order': False, 'shape': (2, 3), }", data));
    expect(back.descr).toBe('<f2');
    expect([...back.data]).toEqual(values);
  });

  it.runIf(hasNumpy)('reads what numpy.save writes, float32 and float16', async () => {
    python(`import numpy as np; np.save('${file('n32.npy')}', np.arange(12, dtype=np.float32).reshape(3, 4) / 8); np.save('${file('n16.npy')}', np.array([[0.1, -7.25]], dtype=np.float16))`);
    const a = await readNpy(file('n32.npy'));
    expect(a.shape).toEqual([3, 4]);
    expect(a.data[11]).toBe(11 / 8);
    const b = await readNpy(file('n16.npy'));
    expect(b.shape).toEqual([1, 2]);
    expect(b.data[1]).toBe(-7.25);
    expect(b.data[0]).toBeCloseTo(0.1, 3);
  });

  it('refuses what it cannot read, naming the file and the fix', async () => {
    const cases: [string, string, RegExp][] = [
      ['f8.npy', "{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }", /dtype '<f8'.*astype\('<f4'\)/],
      ['be.npy', "{'descr': '>f4', 'fortran_order': False, 'shape': (1,), }", /big-endian/],
      ['fo.npy', "{'descr': '<f4', 'fortran_order': True, 'shape': (1,), }", /Fortran order.*ascontiguousarray/],
      ['short.npy', "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }", /needs 16 bytes of data, the file has 4 \(truncated/],
      ['junk.npy', "{'descr': '<f4'}", /unreadable \.npy header/],
    ];
    for (const [name, dict, message] of cases) {
      const p = rawNpy(name, dict, Buffer.alloc(4));
      await expect(readNpy(p)).rejects.toThrow(message);
      await expect(readNpy(p)).rejects.toMatchObject({ diagnostic: { file: p } });
    }
    fs.writeFileSync(file('text.npy'), 'label,path\n');
    await expect(readNpy(file('text.npy'))).rejects.toThrow(/not a NumPy \.npy file/);
    await expect(readNpy(rawNpy('v9.npy', "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", Buffer.alloc(4), 9))).rejects.toThrow(/version 9\.0/);
    await expect(readNpy(file('missing.npy'))).rejects.toThrow(/cannot read the \.npy file \(ENOENT\)/);
  });
});

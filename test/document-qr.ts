// Test helper: the text of the QR code on a certificate's first page, read as a phone would read
// it from the printed sheet: the page's top left drawn by poppler's pdftoppm at 288 dpi (4 pixels
// a module), in grey, then decoded by jsQR, which shares no code with the encoder (npm qrcode).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import jsQR from 'jsqr';

export function qrTextOnFirstPage(pdf: Uint8Array): string | undefined {
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'cvs-qr-'));
  try {
    const file = path.join(directory, 'page.pdf');
    fs.writeFileSync(file, pdf);
    const drawn = spawnSync('pdftoppm', ['-r', '288', '-gray', '-f', '1', '-l', '1', '-x', '0', '-y', '0', '-W', '720', '-H', '720', file, path.join(directory, 'page')], { encoding: 'utf8' });
    if (drawn.status !== 0) throw new Error(`pdftoppm: ${drawn.stderr}`);
    const image = fs.readdirSync(directory).find((name) => name.endsWith('.pgm'));
    if (image === undefined) throw new Error('pdftoppm drew no page');
    const { width, height, pixels } = readPgm(fs.readFileSync(path.join(directory, image)));
    const rgba = new Uint8ClampedArray(width * height * 4);
    for (let index = 0; index < width * height; index += 1) {
      rgba[4 * index] = rgba[4 * index + 1] = rgba[4 * index + 2] = pixels[index]!;
      rgba[4 * index + 3] = 255;
    }
    return jsQR(rgba, width, height)?.data;
  } finally {
    fs.rmSync(directory, { recursive: true, force: true });
  }
}

/** A binary PGM (P5, 8-bit), as pdftoppm -gray writes it. */
function readPgm(bytes: Buffer): { width: number; height: number; pixels: Uint8Array } {
  const header = /^P5\s+(\d+)\s+(\d+)\s+255\s/.exec(bytes.subarray(0, 64).toString('latin1'));
  if (!header) throw new Error('not an 8-bit binary PGM');
  const width = Number(header[1]);
  const height = Number(header[2]);
  return { width, height, pixels: bytes.subarray(header[0].length, header[0].length + width * height) };
}

// Test helper: a certificate's page as poppler draws it at 300 dpi in grey, cropped to a box given
// in page points, and what a photocopier would make of it: a copier resolves about 0.4 mm, so the
// page is averaged over 5 × 5 pixels (0.42 mm) and then printed black or white at a threshold.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface GreyImage {
  width: number;
  height: number;
  pixels: Uint8Array;
}

const DPI = 300;

export function drawnBox(pdf: Uint8Array, box: { x: number; y: number; width: number; height: number }): GreyImage {
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'cvs-copy-'));
  try {
    const file = path.join(directory, 'page.pdf');
    fs.writeFileSync(file, pdf);
    const px = (points: number) => String(Math.round((points * DPI) / 72));
    const drawn = spawnSync('pdftoppm', ['-r', String(DPI), '-gray', '-f', '1', '-l', '1', '-x', px(box.x), '-y', px(box.y), '-W', px(box.width), '-H', px(box.height), file, path.join(directory, 'page')], { encoding: 'utf8' });
    if (drawn.status !== 0) throw new Error(`pdftoppm: ${drawn.stderr}`);
    const bytes = fs.readFileSync(path.join(directory, fs.readdirSync(directory).find((name) => name.endsWith('.pgm'))!));
    const header = /^P5\s+(\d+)\s+(\d+)\s+255\s/.exec(bytes.subarray(0, 64).toString('latin1'))!;
    const width = Number(header[1]);
    const height = Number(header[2]);
    return { width, height, pixels: Uint8Array.from(bytes.subarray(header[0].length, header[0].length + width * height)) };
  } finally {
    fs.rmSync(directory, { recursive: true, force: true });
  }
}

/** The copier's page: each pixel the mean of its 5 × 5 neighbourhood, then black (0) below the threshold, white (255) above. */
export function photocopied(image: GreyImage, threshold: number): GreyImage {
  const { width, height, pixels } = image;
  const out = new Uint8Array(width * height);
  for (let y = 0; y < height; y += 1) {
    for (let x = 0; x < width; x += 1) {
      let sum = 0;
      let count = 0;
      for (let dy = -2; dy <= 2; dy += 1) {
        for (let dx = -2; dx <= 2; dx += 1) {
          const sx = x + dx;
          const sy = y + dy;
          if (sx < 0 || sy < 0 || sx >= width || sy >= height) continue;
          sum += pixels[sy * width + sx]!;
          count += 1;
        }
      }
      out[y * width + x] = sum / count < threshold ? 0 : 255;
    }
  }
  return { width, height, pixels: out };
}

/** The mean grey of the pixels where `mask` is dark (inside) and where it is light (outside). */
export function meansBy(image: GreyImage, mask: GreyImage): { inside: number; outside: number } {
  let inside = 0;
  let insideCount = 0;
  let outside = 0;
  let outsideCount = 0;
  for (let index = 0; index < image.pixels.length; index += 1) {
    if (mask.pixels[index]! < 128) {
      inside += image.pixels[index]!;
      insideCount += 1;
    } else {
      outside += image.pixels[index]!;
      outsideCount += 1;
    }
  }
  return { inside: inside / insideCount, outside: outside / outsideCount };
}

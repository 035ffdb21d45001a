// The one Japanese font every PDF uses. Certificates carry names such as 髙﨑 and 𠮷, so the font
// must be the full Noto Serif JP (17,099 glyphs), never a sliced web font or a standard PDF font
// (pdfkit's Helvetica cannot even be loaded inside the compiled binary).

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { AppError } from '../../core/errors.ts';

const fontModulePath = '@expo-google-fonts/noto-serif-jp/400Regular/NotoSerifJP_400Regular.ttf';

let cachedFont: Promise<Uint8Array> | undefined;

/** The Noto Serif JP Regular TTF bytes; read once per process. */
export function loadJapaneseFont(): Promise<Uint8Array> {
  cachedFont ??= readFont().catch((error: unknown) => {
    cachedFont = undefined;
    throw error;
  });
  return cachedFont;
}

async function readFont(): Promise<Uint8Array> {
  const path = await locateFont();
  try {
    return readFileSync(path);
  } catch {
    throw new AppError('internal', 'pdf.font_missing', `cannot read the Japanese font at ${path}`);
  }
}

async function locateFont(): Promise<string> {
  if (typeof Bun !== 'undefined') {
    // Loaded lazily so Node never sees the Bun-only `with { type: 'file' }` import.
    const { embeddedFontPath } = await import('./embedded-font.bun.ts');
    return embeddedFontPath;
  }
  return createRequire(import.meta.url).resolve(fontModulePath);
}

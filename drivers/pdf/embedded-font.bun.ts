// Bun only: `with { type: 'file' }` makes `bun build --compile` embed the TTF in the binary and
// gives a path (`/$bunfs/…` when compiled, the real file under `bun test`). Node cannot load this
// import, so font.ts imports this module only when running under Bun.

// @ts-expect-error TypeScript knows no module type for .ttf; Bun's file loader turns it into a path.
import fontPath from '@expo-google-fonts/noto-serif-jp/400Regular/NotoSerifJP_400Regular.ttf' with { type: 'file' };

export const embeddedFontPath: string = fontPath;

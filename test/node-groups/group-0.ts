// Half of the test files not in OWN_PROCESS, in one Node process (see files.mjs). Not named *.test.ts, so `bun test` never picks it up.
import path from 'node:path';
import { pathToFileURL } from 'node:url';
// @ts-expect-error a plain module without types
import { groupFiles, ROOT } from './files.mjs';

for (const file of groupFiles(0) as string[]) await import(pathToFileURL(path.join(ROOT, file)).href);

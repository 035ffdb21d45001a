// Whether the PDF text checks can run: they read PDFs back with poppler-utils' pdftotext. A fresh
// machine without it skips them and says why; CI (.ci/run sets CVS_ISSUE_REQUIRE_POPPLER=1) runs
// them regardless, so a missing poppler fails there instead of passing unseen.
import { spawnSync } from 'node:child_process';

const installed = spawnSync('pdftotext', ['-v']).error === undefined;

export const popplerMissing: false | string =
  installed || process.env.CVS_ISSUE_REQUIRE_POPPLER === '1' ? false : 'poppler-utils is not installed (apt-get install poppler-utils)';

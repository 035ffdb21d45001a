// A kiosk session in a process of its own, for test/cmd/kiosk-erasure.test.ts to kill: before
// each step it prints "STEP <label>" and waits for a line on standard input, so the test can look
// at the disk at that moment, let it go on, or kill it there with SIGKILL. The certificate data is
// handed to the test on standard output ("CERTIFICATE <base64>", a pipe, never a file) for the scan.
// Arguments: deployment dir, relay URL, kiosk id, clock start (ms), session (JSON).

import { createInterface } from 'node:readline';
import { loadConfig } from '../../cmd/config.ts';
import { offsetClock } from '../../cmd/deps.ts';
import { instrumentedSession, type Session } from './erasure-scan.ts';

const [dir, relayUrl, kioskId, startMs, sessionJson] = process.argv.slice(2);
const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
const say = (line: string) => new Promise<void>((resolve) => process.stdout.write(`${line}\n`, () => resolve()));

const { kiosk, result } = await instrumentedSession(loadConfig(dir!), {
  kioskId: kioskId!,
  relayUrl: relayUrl!,
  clock: offsetClock(Number(startMs)),
  session: JSON.parse(sessionJson!) as Session,
  step: async (label) => {
    await say(`STEP ${label}`);
    if ((await lines.next()).done) process.exit(1);
  },
  // Each copy's base64 (which has no spaces), separated by spaces.
  onCertificate: (pdfsBase64) => void say(`CERTIFICATE ${pdfsBase64.join(' ')}`),
});
await kiosk.close();
await say(`RESULT ${result.outcome}`);
process.exit(0);

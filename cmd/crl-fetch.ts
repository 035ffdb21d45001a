// The JPKI CRL fetched from its distribution point over HTTPS (issue 12: revocation that stays
// fresh), for a centre whose deployment names one (`center.jpkiCrl`). Each fetch is checked as the
// card verifier checks a list (signed by the JPKI CA, a later thisUpdate than the file holds) and
// then written over the CRL file, atomically and owner-only. The verifier takes it up from the
// file within a minute (drivers/pki/verify.ts freshCrl), and a restart starts from it. A fetch
// that fails, or a list that does not verify or is older than the one held, changes nothing and
// is reported once per fetch (a `crl.ignored` audit entry with its code).

import fs from 'node:fs';
import path from 'node:path';
import { AppError } from '../core/errors.ts';
import type { Timers } from '../core/ports.ts';
import { parseCrl } from '../drivers/pki/verify.ts';
import type { HttpClient } from '../drivers/http/client.ts';

/** Ten minutes: CRLs are issued daily; the list held is checked against its nextUpdate at every card. */
export const CRL_FETCH_INTERVAL_MS = 10 * 60_000;
const MAX_CRL_BYTES = 16 * 1024 * 1024;

export interface CrlFetcher {
  /** One fetch now (also what the timer runs); resolves with what became of it. */
  fetchNow(): Promise<'taken' | 'unchanged' | 'ignored'>;
  close(): Promise<void>;
}

export function startCrlFetcher(options: {
  client: HttpClient;
  /** The path on the distribution point, e.g. /crl/auth.crl. */
  path: string;
  crlFile: string;
  caCertificatePem: string;
  timers: Timers;
  intervalMs?: number;
  onProblem(code: string): void;
}): CrlFetcher {
  let closed = false;
  let running: Promise<'taken' | 'unchanged' | 'ignored'> | undefined;
  let timer: unknown;

  async function fetchOnce(): Promise<'taken' | 'unchanged' | 'ignored'> {
    let body: Uint8Array;
    try {
      const answer = await options.client.request('GET', options.path, undefined, { accept: 'application/pkix-crl' });
      if (answer.status !== 200) throw new AppError('unavailable', 'crl.fetch_failed', `the CRL distribution point answered HTTP ${answer.status}`);
      body = answer.body;
    } catch (error) {
      options.onProblem(error instanceof AppError && error.code.startsWith('crl.') ? error.code : 'crl.fetch_failed');
      return 'ignored';
    }
    const pem = pemOf(body);
    let fresh;
    try {
      fresh = parseCrl(pem, options.caCertificatePem);
    } catch (error) {
      options.onProblem(error instanceof AppError ? error.code : 'pki.crl_invalid');
      return 'ignored';
    }
    const held = fs.readFileSync(options.crlFile, 'utf8');
    const current = parseCrl(held, options.caCertificatePem);
    if (fresh.thisUpdateMs === current.thisUpdateMs) return 'unchanged';
    if (fresh.thisUpdateMs < current.thisUpdateMs) {
      // A distribution point serving an older list (a cache, a rollback) could hide a revocation.
      options.onProblem('pki.crl_older');
      return 'ignored';
    }
    writeAtomically(options.crlFile, pem);
    return 'taken';
  }

  const fetchNow = () => (running ??= fetchOnce().finally(() => (running = undefined)));
  const schedule = () => {
    if (closed) return;
    timer = options.timers.set(() => {
      void fetchNow().finally(schedule);
    }, options.intervalMs ?? CRL_FETCH_INTERVAL_MS);
  };
  // The first fetch at start: a centre that was down past a nextUpdate is fresh again at once.
  void fetchNow().finally(schedule);
  return {
    fetchNow,
    async close() {
      closed = true;
      if (timer !== undefined) options.timers.clear(timer);
      await running;
      await options.client.close();
    },
  };
}

/** DER as distribution points serve it (RFC 5280 §4.2.1.13), or PEM as it came. */
function pemOf(body: Uint8Array): string {
  if (body.byteLength > MAX_CRL_BYTES) return '';
  const text = Buffer.from(body).toString('latin1');
  if (text.trimStart().startsWith('-----BEGIN X509 CRL-----')) return text;
  const base64 = Buffer.from(body).toString('base64').replace(/.{64}/g, '$&\n');
  return `-----BEGIN X509 CRL-----\n${base64}${base64.endsWith('\n') ? '' : '\n'}-----END X509 CRL-----\n`;
}

/** The new list beside the old one, then renamed over it: a reader sees one or the other whole. */
function writeAtomically(file: string, text: string): void {
  const temporary = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  fs.writeFileSync(temporary, text, { mode: 0o600 });
  fs.renameSync(temporary, file);
}

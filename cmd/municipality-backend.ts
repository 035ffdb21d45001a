// What `center municipality add|update --backend-url` sets up (docs/municipality-backend.md): the
// municipality's back end in its definition, the centre's back-end client certificate (once per
// deployment), and, for the reference back end of this deployment (`municipality serve`), its server
// certificate from the centre CA. A back end of the municipality's own comes with --backend-ca, the
// CA its certificate chains to, which is copied into the deployment.

import fs from 'node:fs';
import { usageError } from '../core/errors.ts';
import type { MunicipalityBackend } from '../core/municipality.ts';
import { generateRsaKeyPem, issueCertificate } from '../drivers/pki/issue.ts';
import { centerCa } from './center-ca.ts';
import { writeConfig, type LoadedConfig } from './config.ts';
import { pkiWriter, SERVER_NAMES, validity, writePrivate } from './init.ts';

export interface BackendFlags {
  backendUrl?: string;
  backendCa?: string;
}

/** Where the reference back end of a municipality keeps its server certificate (municipality serve). */
export function referenceBackendFiles(code: string): { keyFile: string; certificateFile: string } {
  return { keyFile: `pki/municipalities/${code}/server.key.pem`, certificateFile: `pki/municipalities/${code}/server.cert.pem` };
}

const BACKEND_CLIENT = 'pki/center/backend-client';

/** The back end the flags name, with what it needs in the deployment made; undefined without --backend-url. */
export function backendFromFlags(flags: BackendFlags, loaded: LoadedConfig, code: string, nowMs: number): MunicipalityBackend | undefined {
  if (flags.backendUrl === undefined) {
    if (flags.backendCa !== undefined) throw usageError('--backend-ca goes with --backend-url', '--backend-ca');
    return undefined;
  }
  let url: URL | undefined;
  try {
    url = new URL(flags.backendUrl);
  } catch {
    url = undefined;
  }
  if (!url || url.protocol !== 'https:' || url.pathname !== '/' || url.search !== '' || url.username !== '') throw usageError(`"${flags.backendUrl.slice(0, 80)}" is not an https://HOST:PORT address`, '--backend-url');
  const caFile = flags.backendCa === undefined ? referenceBackend(loaded, code, nowMs) : copiedCa(loaded, code, flags.backendCa);
  ensureBackendClient(loaded, nowMs);
  return { url: url.origin, caFile };
}

/** The reference back end's server certificate from the centre CA (made once); its CA is the centre's. */
function referenceBackend(loaded: LoadedConfig, code: string, nowMs: number): string {
  const { ca, certificateFile } = centerCa(loaded);
  const files = referenceBackendFiles(code);
  if (!fs.existsSync(loaded.resolve(files.certificateFile))) {
    pkiWriter(loaded.directory).save(`pki/municipalities/${code}/server`, issueCertificate(ca, {
      subject: { commonName: `municipality.${code}`, organization: code, organizationalUnit: 'municipality' },
      usage: 'server',
      ...SERVER_NAMES,
      ...validity(nowMs, 'valid'),
      keyPair: generateRsaKeyPem(),
    }));
  }
  return certificateFile;
}

function copiedCa(loaded: LoadedConfig, code: string, file: string): string {
  let pem: string;
  try {
    pem = fs.readFileSync(file, 'utf8');
  } catch {
    throw usageError('cannot read the file', file);
  }
  if (!/-----BEGIN CERTIFICATE-----/.test(pem)) throw usageError('not a PEM certificate', file);
  const relative = `pki/municipalities/${code}/backend-ca.cert.pem`;
  writePrivate(loaded.resolve(relative), pem);
  return relative;
}

/** The centre's client certificate toward back ends, made and named in the deployment file once. */
function ensureBackendClient(loaded: LoadedConfig, nowMs: number): void {
  if (loaded.config.center.backendClientTls !== undefined) return;
  const { ca } = centerCa(loaded);
  const saved = pkiWriter(loaded.directory).save(BACKEND_CLIENT, issueCertificate(ca, {
    subject: { commonName: 'center.backend-client', organization: 'J-LIS test', organizationalUnit: 'center' },
    usage: 'client',
    ...validity(nowMs, 'valid'),
    keyPair: generateRsaKeyPem(),
  }));
  const config = { ...loaded.config, center: { ...loaded.config.center, backendClientTls: { keyFile: saved.keyFile, certificateFile: saved.certificateFile } } };
  writeConfig(loaded.directory, config);
  loaded.config = config;
}

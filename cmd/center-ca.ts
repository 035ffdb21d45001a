// The CA keys a test deployment keeps (as `init` leaves them): the centre CA, which certifies the
// relays, the centre's back-end client and the reference municipality back ends; and the JPKI
// user-authentication CA, which certifies the cards. A real centre keeps these keys elsewhere: the
// commands that need one say so (exit 2) when it is not in the deployment.

import fs from 'node:fs';
import { AppError } from '../core/errors.ts';
import type { KeyAndCertificate } from '../drivers/pki/issue.ts';
import type { LoadedConfig } from './config.ts';

/** A CA's key and certificate from the deployment: the key lies beside the certificate, .key.pem for .cert.pem. */
function caFromFiles(loaded: LoadedConfig, certificateFile: string, what: string): { ca: KeyAndCertificate; certificateFile: string } {
  const keyFile = certificateFile.replace(/\.cert\.pem$/, '.key.pem');
  if (keyFile === certificateFile || !fs.existsSync(loaded.resolve(keyFile))) {
    throw new AppError('usage', 'pki.no_ca_key', `${what}'s private key is not in this deployment: issue the certificates where the CA is kept`, loaded.resolve(keyFile));
  }
  return { ca: { keyPem: loaded.read(keyFile), certificatePem: loaded.read(certificateFile) }, certificateFile };
}

export function centerCa(loaded: LoadedConfig): { ca: KeyAndCertificate; certificateFile: string } {
  return caFromFiles(loaded, loaded.config.center.tls.caFile, "the centre CA");
}

export function jpkiCa(loaded: LoadedConfig): { ca: KeyAndCertificate; certificateFile: string } {
  return caFromFiles(loaded, loaded.config.center.jpkiCaFile, 'the JPKI authentication CA');
}

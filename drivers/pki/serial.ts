// The serial-number forms of our certificates: issue.ts writes them, verify.ts and init read them
// back. Kept apart from subject.ts so that reading a serial never loads node-forge (~6 ms at start).
import { AppError } from '../../core/errors.ts';

/**
 * The one serial-number form used everywhere (CRL entries, the resident mapping, logs): lowercase
 * hex of the positive integer, no leading zeros, '0' for zero. X509Certificate.serialNumber
 * gives uppercase and, in some runtimes, a leading 00 byte; this removes both differences.
 */
export function canonicalSerialHex(serialHex: string): string {
  const hex = serialHex.toLowerCase().replace(/:/g, '');
  if (!/^[0-9a-f]+$/.test(hex)) {
    throw new AppError('input', 'pki.serial_invalid', 'a certificate serial number must be hexadecimal');
  }
  return hex.replace(/^0+/, '') || '0';
}

/** The DER INTEGER content octets for a non-negative serial: even length, 00 added when the top
 * bit is set so the value stays positive. */
export function derIntegerHex(serialHex: string): string {
  const canonical = canonicalSerialHex(serialHex);
  const even = canonical.length % 2 === 0 ? canonical : `0${canonical}`;
  return parseInt(even.slice(0, 1), 16) >= 8 ? `00${even}` : even;
}

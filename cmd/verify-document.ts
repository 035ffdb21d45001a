// `cvs-issue verify-document FILE.pdf`: is this certificate copy one the centre issued, unchanged,
// and still valid (docs/documents.md)? With --dir the centre's own deployment gives the key and
// whether the copy was voided after a misprint; with --key, anyone holding the centre's published
// document key checks the signature and the file offline.

import fs from 'node:fs';
import { Command } from 'commander';
import { AppError, usageError } from '../core/errors.ts';
import type { SerialAnswer } from '../core/center-service.ts';
import { checkSealedDocument, type DocumentCheck } from '../drivers/pdf/document-seal.ts';
import { noteVerifierFromKey } from '../drivers/store/audit-log.ts';
import { readKeyOption } from './audit-log.ts';
import { documentVerifierKeyOf, serialStatusAt } from './center.ts';
import { COMMANDS } from './commands.ts';
import type { Factory } from './factory.ts';

interface VerifyDocumentOptions {
  dir?: string;
  key?: string;
  json?: boolean;
}

/** The largest certificate file read: a certificate is tens of KB; a multi-page one a few hundred. */
const MAX_DOCUMENT_BYTES = 16 * 1024 * 1024;

export function makeVerifyDocumentCommand(factory: Factory): Command {
  const { io } = factory;
  return new Command('verify-document')
    .description(COMMANDS['verify-document'].description)
    .argument('<file>', 'a certificate copy as the kiosk printed it (PDF)')
    .option('--dir <dir>', "the centre's deployment: its document key, and whether the copy was voided or refunded")
    .option('--key <vkey>', 'the centre\'s document verifier key ("center document-key"), or @FILE holding it: offline, without void status')
    .option('--json', 'print {"status","reason","serial","municipalityCode","certificateType","issuedOn","voidChecked"}')
    .addHelpText(
      'after',
      '\nStatus: genuine (signed by the centre, unchanged, not voided), void (voided after a misprint, or refunded), altered (changed after signing), unknown (not signed by this centre, or a serial it does not know).\n\nExit codes: 0 genuine, 3 void, altered or unknown, 2 a file that is not a certificate or a bad flag, 1 unexpected failure.',
    )
    .action((file: string, options: VerifyDocumentOptions) => {
      if ((options.dir === undefined) === (options.key === undefined)) throw usageError('give --dir DIR (the centre\'s deployment) or --key VKEY (offline), one of them');
      const loaded = options.dir === undefined ? undefined : factory.deployment(options.dir);
      const verifierKey = loaded === undefined ? readKeyOption(options.key!) : documentVerifierKeyOf(loaded);
      const check = checkSealedDocument(readDocument(file), noteVerifierFromKey(verifierKey), file);
      const result = loaded !== undefined && check.status === 'genuine' ? withSerialStatus(check, serialStatusAt(loaded, check.statement!.serial)) : check;
      const statement = result.statement;
      const report = {
        status: result.status,
        reason: result.reason,
        serial: statement?.serial ?? null,
        municipalityCode: statement?.municipalityCode ?? null,
        certificateType: statement?.certificateType ?? null,
        issuedOn: statement?.issuedOn ?? null,
        voidChecked: loaded !== undefined && check.status === 'genuine',
      };
      if (options.json) io.out(`${JSON.stringify(report)}\n`);
      else io.out(`${result.status}: ${result.reason}${statement ? ` (${statement.serial}, municipality ${statement.municipalityCode}, ${statement.certificateType}, issued ${statement.issuedOn})` : ''}\n`);
      if (result.status !== 'genuine') throw new AppError('differences', `document.${result.status}`, `the document is ${result.status}`, file);
    });
}

function readDocument(file: string): Uint8Array {
  let bytes: Buffer;
  try {
    const size = fs.statSync(file).size;
    if (size > MAX_DOCUMENT_BYTES) throw new AppError('input', 'document.too_large', `larger than ${MAX_DOCUMENT_BYTES / 1024 / 1024} MiB: not a certificate`, file);
    bytes = fs.readFileSync(file);
  } catch (error) {
    if (error instanceof AppError) throw error;
    throw new AppError('input', 'file.missing', 'cannot read the file', file);
  }
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** A copy the signature says is genuine, as the centre's records say it stands now (C§9). */
function withSerialStatus(check: DocumentCheck, answer: SerialAnswer): DocumentCheck {
  switch (answer.status) {
    case 'void':
      return { ...check, status: 'void', reason: `voided (返金済・無効) after ${answer.code} at the kiosk` };
    case 'refunded':
      return { ...check, status: 'void', reason: 'the transaction was refunded: no copy of it is valid' };
    case 'unknown':
      return { ...check, status: 'unknown', reason: 'the centre has no record of this serial' };
    case 'unconfirmed':
      return { ...check, reason: 'signed by the centre and unchanged; the kiosk has not yet reported the transaction complete' };
    case 'issued':
      return check;
  }
}

// `center card issue` (J-LIS issues the JPKI user-authentication certificates): a test card for a
// resident of a municipality whose records are in its own system (docs/municipality-backend.md),
// written to the deployment's cards folder as `init` writes its cards, and linked at the centre to
// that resident and municipality, with an audit entry. Needs the JPKI CA's key in the deployment.

import fs from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { usageError } from '../core/errors.ts';
import type { Municipality } from '../core/municipality.ts';
import { writeCardFile } from '../drivers/card/card-file.ts';
import { certificateDerFromPem, generateRsaKeyPem, issueCertificate } from '../drivers/pki/issue.ts';
import { canonicalSerialHex } from '../drivers/pki/serial.ts';
import { auditOrigin } from '../drivers/store/audit-log.ts';
import { openCenterDatabase, saveResidentLink } from '../drivers/store/center-store.ts';
import { X509Certificate } from 'node:crypto';
import { jpkiCa } from './center-ca.ts';
import { centerDatabase, openRoleAuditLog } from './config.ts';
import type { Factory } from './factory.ts';
import { validity } from './init.ts';

interface IssueOptions {
  dir: string;
  municipality: string;
  resident: string;
  pin: string;
  cardId?: string;
  json?: boolean;
}

export function addCardCommand(center: Command, factory: Factory): void {
  const { io } = factory;
  const card = center.command('card').description('JPKI cards (test deployments, whose JPKI CA key is in the deployment)');
  card
    .command('issue')
    .description("issue a test My Number card for a resident of a municipality with its own system, and link it at the centre")
    .requiredOption('--dir <dir>', 'deployment directory made by "cvs-issue init"')
    .requiredOption('--municipality <code>', 'the resident\'s municipality (one with --backend-url)')
    .requiredOption('--resident <id>', "the resident's id in the municipality's system (住民票コード)")
    .requiredOption('--pin <pin>', 'the card\'s 4-digit PIN')
    .option('--card-id <id>', 'the card file\'s name in the cards folder (default: card-<resident>)')
    .option('--json', 'print { cardId, municipalityCode, residentId, file }')
    .addHelpText('after', '\nA card issued again for the same resident replaces its link: the earlier card is no longer this resident\'s.\n\nExit codes: 0 issued and linked, 2 bad flag, a municipality without its own system, a card file already there, or no JPKI CA key in the deployment, 1 unexpected failure.')
    .action((options: IssueOptions) => {
      if (!/^\d{4}$/.test(options.pin)) throw usageError('the PIN is 4 digits', '--pin');
      if (!/^[A-Za-z0-9_-]{1,40}$/.test(options.resident)) throw usageError('a resident id is 1 to 40 letters, digits, _ or -', '--resident');
      const cardId = options.cardId ?? `card-${options.resident}`;
      if (!/^[A-Za-z0-9_-]{1,64}$/.test(cardId)) throw usageError('a card id is 1 to 64 letters, digits, _ or -', '--card-id');
      const loaded = factory.deployment(options.dir);
      const file = path.join(loaded.resolve(loaded.config.cardsDirectory), `${cardId}.json`);
      if (fs.existsSync(file)) throw usageError(`a card ${cardId} is already in the cards folder`, '--card-id');
      const { ca } = jpkiCa(loaded);
      const db = openCenterDatabase(centerDatabase(loaded));
      try {
        const row = db.get<{ definition: string }>('SELECT definition FROM municipalities WHERE code = :code', { code: options.municipality });
        const municipality = row === undefined ? undefined : (JSON.parse(row.definition) as Municipality);
        if (municipality?.backend === undefined) throw usageError(`municipality ${options.municipality.slice(0, 12)} has no system of its own (center municipality add|update --backend-url)`, '--municipality');
        const nowMs = factory.clock.nowMs();
        const issued = issueCertificate(ca, { subject: { commonName: `JPKI auth ${cardId}`, country: 'JP' }, usage: 'card-auth', ...validity(nowMs, 'valid'), keyPair: generateRsaKeyPem() });
        const cardSerialHex = canonicalSerialHex(new X509Certificate(issued.certificatePem).serialNumber);
        const audit = openRoleAuditLog(db, loaded, loaded.config.center, auditOrigin('center'), factory.clock);
        audit.transaction([{ kind: 'card.linked', data: { municipalityCode: options.municipality } }], () =>
          saveResidentLink(db, { cardSerialHex, residentId: options.resident, municipalityCode: options.municipality }, new Date(nowMs).toISOString()),
        );
        fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
        writeCardFile(file, {
          version: 1,
          cardId,
          kind: 'my-number-card',
          authCertificateDerBase64: Buffer.from(certificateDerFromPem(issued.certificatePem)).toString('base64'),
          authPrivateKeyPem: issued.keyPem,
          pin: options.pin,
          pinTriesLeft: 3,
        });
      } finally {
        db.close();
      }
      if (options.json) io.out(`${JSON.stringify({ cardId, municipalityCode: options.municipality, residentId: options.resident, file })}\n`);
      else io.out(`card ${cardId} issued for a resident of ${options.municipality}\n`);
    });
}

// The centre's side of the municipality back-end contract (docs/municipality-backend.md): over
// mutual TLS, with the centre's back-end client certificate, it asks a municipality's own system
// for one of its residents. An answer that does not come in time, or that is not a resident record
// of that municipality and that resident, is a refusal with its own code: the kiosk says so and no
// certificate is issued from it.

import { AppError } from '../../core/errors.ts';
import type { Municipality } from '../../core/municipality.ts';
import { parseResidentRecord, type Resident } from '../../core/resident.ts';
import { createMutualTlsClient, type HttpClient } from '../http/client.ts';
import type { RemoteResidents } from '../store/center-store.ts';

export const BACKEND_RESIDENT_PATH = '/v1/residents/find';
export const BACKEND_INQUIRY_PATH = '/v1/inquiries/deliver';
export const BACKEND_INQUIRY_STATUS_PATH = '/v1/inquiries/status';

/** What J-LIS passes on of an inquiry (C§16): the transaction and the operator's words, never the resident. */
export interface DeliveredInquiry {
  inquiryId: string;
  municipalityCode: string;
  requestId: string;
  summary: string;
  receivedAt: string;
}

/** How the municipality says it dealt with an inquiry. */
export interface BackendInquiryStatus {
  status: 'forwarded' | 'answered' | 'closed';
  answer: string | null;
}

/** A back end answers within this, connection and handshake included, or the request is refused. */
export const BACKEND_TIMEOUT_MS = 3_000;

export interface BackendClientOptions {
  /** The centre's back-end client certificate and key (center.backendClientTls). */
  certificatePem: string;
  keyPem: string;
  /** The CA file a municipality's back end certificate chains to, read from the deployment. */
  readCa(caFile: string): string;
  /**
   * Whether certificates from this CA must also name the municipality (O = its code): true for the
   * centre CA, which certifies every reference back end of a deployment at the same addresses, so
   * that one cannot answer for another. A municipality's own CA certifies only its own system.
   */
  sharedCa(caFile: string): boolean;
  timeoutMs?: number;
}

const unavailable = () => new AppError('refused', 'municipality.backend_unavailable', "the municipality's system did not answer");
const invalid = (why: string) => new AppError('refused', 'municipality.backend_invalid', `the municipality's system answered with ${why}`);

export interface MunicipalityBackends extends RemoteResidents {
  /** Hands an inquiry to the municipality's system; the same inquiry again is a duplicate there. */
  deliverInquiry(municipality: Municipality, inquiry: DeliveredInquiry): Promise<void>;
  /** The municipality's word on an inquiry; undefined when it does not have it. */
  inquiryStatus(municipality: Municipality, inquiryId: string): Promise<BackendInquiryStatus | undefined>;
  close(): Promise<void>;
}

export function createBackendResidents(options: BackendClientOptions): MunicipalityBackends {
  /** One kept-alive client per back end (its URL and CA). */
  const clients = new Map<string, HttpClient>();
  const clientOf = (municipality: Municipality): HttpClient => {
    const { url, caFile } = municipality.backend!;
    const key = `${municipality.code}\n${url}\n${caFile}`;
    let client = clients.get(key);
    if (client === undefined) {
      client = createMutualTlsClient({
        baseUrl: url,
        caPem: options.readCa(caFile),
        certificatePem: options.certificatePem,
        keyPem: options.keyPem,
        ...(options.sharedCa(caFile) ? { expectedServerOrganization: municipality.code } : {}),
        timeoutMs: options.timeoutMs ?? BACKEND_TIMEOUT_MS,
        maxResponseBytes: 64 * 1024,
        maxConnections: 4,
      });
      clients.set(key, client);
    }
    return client;
  };
  /** POSTs to the back end: its JSON answer, or undefined for 404; a refusal for anything else. */
  const ask = async (municipality: Municipality, path: string, value: unknown): Promise<Record<string, unknown> | undefined> => {
    let answer: { status: number; body: Uint8Array };
    try {
      answer = await clientOf(municipality).request('POST', path, JSON.stringify(value), { 'content-type': 'application/json', accept: 'application/json' });
    } catch {
      throw unavailable();
    }
    if (answer.status === 404) return undefined;
    if (answer.status !== 200) throw answer.status >= 500 ? unavailable() : invalid(`HTTP ${answer.status}`);
    let body: unknown;
    try {
      body = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(answer.body));
    } catch {
      throw invalid('something that is not JSON');
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw invalid('JSON that is not an object');
    return body as Record<string, unknown>;
  };
  return {
    async find(municipality, residentId): Promise<Resident | undefined> {
      const body = await ask(municipality, BACKEND_RESIDENT_PATH, { municipalityCode: municipality.code, residentId });
      if (body === undefined) return undefined;
      let resident: Resident;
      try {
        resident = parseResidentRecord(body?.resident);
      } catch (error) {
        throw invalid(error instanceof AppError ? `a resident record whose ${error.where ?? 'content'} is malformed` : 'something that is not a resident record');
      }
      if (resident.residentId !== residentId || resident.municipalityCode !== municipality.code) throw invalid('another resident than the one asked for');
      return resident;
    },
    async deliverInquiry(municipality, inquiry) {
      const body = await ask(municipality, BACKEND_INQUIRY_PATH, inquiry);
      if (body?.inquiryId !== inquiry.inquiryId) throw invalid('no receipt for the inquiry');
    },
    async inquiryStatus(municipality, inquiryId) {
      const body = await ask(municipality, BACKEND_INQUIRY_STATUS_PATH, { municipalityCode: municipality.code, inquiryId });
      if (body === undefined) return undefined;
      const { status, answer } = body;
      if (status !== 'forwarded' && status !== 'answered' && status !== 'closed') throw invalid('an inquiry status that is not one');
      if (answer !== null && (typeof answer !== 'string' || answer.length === 0 || answer.length > 400)) throw invalid('an answer that is not 1 to 400 characters');
      return { status, answer };
    },
    async close() {
      await Promise.all([...clients.values()].map((client) => client.close()));
      clients.clear();
    },
  };
}

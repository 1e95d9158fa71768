/** What the console reads from the API, typed. */
import { publicGet, signedRequest, type SigningIdentity } from "./api";
import type { LogCheckpoint } from "./proofs";

export interface Department {
  id: string;
  level: "national" | "city" | "district" | "town" | "village";
  parent: string;
  active: boolean;
  signers: string[];
}

export interface Agreement {
  id: string;
  provider: string;
  consumer: string;
  resource: string;
  purposeHash: string;
  quota: string;
  used: string;
  usage: string;
  validFrom: number;
  validUntil: number;
  status: "active" | "suspended" | "revoked";
  statusChanges: number;
  providerSigner: string;
  consumerSigner: string;
  activatedAt: { block: number; tx: string };
  quotaExceeded: boolean;
}

export interface Activity {
  from: number;
  to: number;
  bucketSeconds: number;
  bucketStarts: number[];
  entries: number;
  departments: { department: string; served: number[]; refused: number[]; provided: number[] }[];
  agreements: { agreementId: string; records: number[] }[];
}

export interface Transfer {
  id: string;
  from: string;
  to: string;
  category: string;
  period: number;
  recordCount: string;
  totalFen: string;
  recordsRoot: string;
  payloadHash: string;
  parents: string[];
  submittedAt: number;
  submitTx: string;
  reconciliation?: { collectedCount: string; collectedFen: string; resultsRoot: string; elapsed: number; tx: string };
  disputes: { department: string; leafIndex: string; leafHash: string; reasonHash: string; tx: string }[];
}

export interface Consent {
  id: string;
  subject: string;
  grantee: string;
  resource: string;
  purposeHash: string;
  kind: number;
  validUntil: number;
  evidenceHash: string;
  recorder: string;
  subjectSigner: string;
  grantedAt: number;
  revokedAt: number;
  grantTx: string;
  revokeTx?: string;
}

export interface TrailEntry {
  index: number;
  leafHash: string;
  entry: {
    time: number;
    consumerDept: string;
    providerDept: string;
    resourceId: string;
    agreementId: string;
    purposeHash: string;
    recordCount: number;
    requestHash: string;
    responseHash: string;
    subjectCommitment: string | null;
    outcome: "served" | "refused";
    refusalReason: string;
  };
}

export const get = <T>(s: SigningIdentity, path: string) => signedRequest<T>(s, "GET", path);
export const post = <T>(s: SigningIdentity, path: string, body: unknown) => signedRequest<T>(s, "POST", path, body);

export const departments = (s: SigningIdentity) => get<{ departments: Department[] }>(s, "/v1/departments").then((r) => r.departments);
export const agreements = (s: SigningIdentity) => get<{ agreements: Agreement[] }>(s, "/v1/agreements").then((r) => r.agreements);
export const transfers = (s: SigningIdentity) => get<{ transfers: Transfer[] }>(s, "/v1/transfers").then((r) => r.transfers);
export const checkpoint = () => publicGet<LogCheckpoint>("/v1/log/checkpoint");

/** Activity over a window: "all" the log, or the last hour, day or week. */
export function activity(s: SigningIdentity, window: string, buckets = 24): Promise<Activity> {
  const span = { "1h": 3600, "24h": 86400, "7d": 7 * 86400 }[window];
  const now = Math.floor(Date.now() / 1000);
  return get<Activity>(s, `/v1/activity?buckets=${buckets}${span ? `&from=${now - span}&to=${now + 1}` : ""}`);
}

/** An optional feature of the node: the answer, or `undefined` when this node has no such route. */
export async function optional<T>(p: Promise<T>): Promise<T | undefined> {
  try {
    return await p;
  } catch (err) {
    if ((err as { code?: string }).code === "ROUTE_NOT_FOUND") return undefined;
    throw err;
  }
}

/**
 * The receipts in a JSON document, as a department keeps them: one receipt; an array of receipts;
 * objects carrying a `receipt` and the `entry` it was given for (each result of a POST /v1/access
 * answer, each entry of an evidence bundle); or a document holding such a list under `results`
 * (a POST /v1/access answer), `receipts` (a POST /v1/receipts/check body) or `entries` (an evidence
 * bundle). Everything is checked for shape here, so the verifier only ever sees well-formed values.
 */
import { z } from "zod";
import type { AccessLogEntry } from "../log/entry";
import type { Receipt } from "../verify";
import type { ReceiptItem } from "./receipt-check";

const hex32 = z.string().regex(/^0x[0-9a-fA-F]{64}$/, "0x + 64 hex characters");
const index = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

/** A receipt (docs/formats.md §4). */
export const ReceiptShape = z
  .object({
    origin: z.string().min(1).max(300),
    index,
    leafHash: hex32,
    batch: z.object({ first: index, count: index.min(1), root: hex32, proof: z.array(hex32).max(64) }).strict(),
    signer: z.string().regex(/^0x[0-9a-fA-F]{40}$/, "0x + 40 hex characters"),
    signature: z.string().regex(/^0x[0-9a-fA-F]{130}$/, "0x + 130 hex characters"),
  })
  .strict();

/** An access entry as JSON (docs/formats.md §2); its bytes32 values are read in lower case. */
export const EntryShape = z
  .object({
    time: index,
    consumerDept: hex32,
    providerDept: hex32,
    resourceId: hex32,
    agreementId: hex32,
    purposeHash: hex32,
    recordCount: z.number().int().min(0).max(0xffffffff),
    requestHash: hex32,
    responseHash: hex32,
    subjectCommitment: hex32.nullable(),
    outcome: z.enum(["served", "refused"]),
    refusalReason: z.string().max(64),
  })
  .strict();

/** An entry with its hex in lower case, as encodeEntry wants it. */
export function entryOf(e: z.infer<typeof EntryShape>): AccessLogEntry {
  const lower = (s: string) => s.toLowerCase();
  return {
    ...e,
    consumerDept: lower(e.consumerDept), providerDept: lower(e.providerDept), resourceId: lower(e.resourceId), agreementId: lower(e.agreementId),
    purposeHash: lower(e.purposeHash), requestHash: lower(e.requestHash), responseHash: lower(e.responseHash),
    subjectCommitment: e.subjectCommitment === null ? null : lower(e.subjectCommitment),
  };
}

/** The document is not receipts: `path` says where. */
export class ReceiptShapeError extends Error {
  constructor(readonly path: string, message: string) {
    super(`${path}: ${message}`);
    this.name = "ReceiptShapeError";
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

function parse<T>(schema: z.ZodType<T>, value: unknown, path: string): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const i = r.error.issues[0];
  throw new ReceiptShapeError([path, ...i.path].join("."), i.message);
}

/** One item: a bare receipt, or an object with `receipt` (and `entry`). */
function itemOf(value: unknown, path: string): ReceiptItem {
  if (isObject(value) && "receipt" in value) {
    const receipt = parse(ReceiptShape, value.receipt, `${path}.receipt`) as Receipt;
    return value.entry === undefined ? { receipt } : { receipt, entry: entryOf(parse(EntryShape, value.entry, `${path}.entry`)) };
  }
  return { receipt: parse(ReceiptShape, value, path) as Receipt };
}

/** Every receipt in `json` (see the module comment); throws ReceiptShapeError naming the first thing that is not one. */
export function receiptItemsOf(json: unknown): ReceiptItem[] {
  let list: unknown[];
  let path: string;
  if (Array.isArray(json)) [list, path] = [json, "$"];
  else if (isObject(json)) {
    const key = (["results", "receipts", "entries"] as const).find((k) => Array.isArray(json[k]));
    if (key) [list, path] = [json[key] as unknown[], `$.${key}`];
    else return [itemOf(json, "$")];
  } else throw new ReceiptShapeError("$", "not a receipt, a list of receipts or a POST /v1/access answer");
  if (list.length === 0) throw new ReceiptShapeError(path, "holds no receipt");
  return list.map((v, i) => itemOf(v, `${path}[${i}]`));
}

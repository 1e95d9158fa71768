import { sha256 } from "@noble/hashes/sha2";
import { fromHex, toHex } from "./encoding";
import { personalMessageHash, recoverAddress } from "./eip191";
import { VerificationError } from "./errors";

/*
 * A risk alert delivered to a webhook is signed by the log operator, so the receiver knows it came
 * from the node (and, with a trust root, from the operating department) and was not changed: an
 * EIP-191 personal_sign over
 *
 *   dcl-alert-webhook/v1\n<origin>\n<timestamp>\n<0x-hex SHA-256 of the body bytes>
 *
 * (four lines, no final newline), where the body is the exact bytes of the POST (the alert's RFC
 * 8785 canonical JSON) and the timestamp is the unix second of sending, which the receiver checks
 * for freshness so an old delivery cannot be replayed as new. The headers carry the timestamp, the
 * signer and the signature; the alert's `id` in the body makes a repeated delivery recognisable.
 */

/** The headers of a signed webhook delivery. */
export const ALERT_WEBHOOK_HEADERS = {
  id: "x-dcl-alert-id",
  timestamp: "x-dcl-timestamp",
  signer: "x-dcl-signer",
  signature: "x-dcl-signature",
} as const;

const encoder = new TextEncoder();

/** The exact bytes the operator signs for a delivery of `body` at `timestamp` by the log of `origin`. */
export function alertWebhookSigningPayload(origin: string, timestamp: number, body: Uint8Array): Uint8Array {
  return encoder.encode(`dcl-alert-webhook/v1\n${origin}\n${timestamp}\n${toHex(sha256(body))}`);
}

/** A delivery as received: the raw body and the header values. */
export interface AlertWebhookDelivery {
  origin: string;
  timestamp: number;
  body: Uint8Array;
  signer: string;
  signature: string;
}

/**
 * Throws unless the delivery is signed by its signer over its body and timestamp, the signer is one
 * of `operatorKeys` (when given), and the timestamp is within `maxSkewSeconds` (default 300) of `now`
 * (when given). Returns the signer.
 */
export function verifyAlertWebhook(d: AlertWebhookDelivery, opts: { operatorKeys?: string[]; now?: number; maxSkewSeconds?: number } = {}): string {
  if (!Number.isSafeInteger(d.timestamp) || d.timestamp < 0) {
    throw new VerificationError("WEBHOOK_STALE", `webhook timestamp ${d.timestamp} is not unix seconds`, { timestamp: String(d.timestamp) });
  }
  if (opts.now !== undefined && Math.abs(opts.now - d.timestamp) > (opts.maxSkewSeconds ?? 300)) {
    throw new VerificationError("WEBHOOK_STALE", `webhook sent at ${d.timestamp}, more than ${opts.maxSkewSeconds ?? 300} s from now (${opts.now})`, { timestamp: d.timestamp, now: opts.now });
  }
  let signature: Uint8Array;
  try {
    signature = fromHex(d.signature);
  } catch {
    throw new VerificationError("WEBHOOK_SIGNATURE_INVALID", "the webhook signature is not hex", { signer: d.signer });
  }
  const recovered = recoverAddress(personalMessageHash(alertWebhookSigningPayload(d.origin, d.timestamp, d.body)), signature);
  if (recovered === null || recovered.toLowerCase() !== d.signer.toLowerCase()) {
    throw new VerificationError("WEBHOOK_SIGNATURE_INVALID", `the webhook delivery is not signed by ${d.signer} over this body and timestamp (recovered ${recovered ?? "nothing"})`, { signer: d.signer, recovered: recovered ?? "" });
  }
  if (opts.operatorKeys && !opts.operatorKeys.some((k) => k.toLowerCase() === recovered.toLowerCase())) {
    throw new VerificationError("WEBHOOK_SIGNER_UNEXPECTED", `the webhook delivery is signed by ${recovered}, not an operator key of the log`, { signer: recovered });
  }
  return recovered;
}

// Pure RFC 6962 / C2SP verification: no I/O, no Node-only APIs, nothing from the rest of dcl.
export { VerificationError } from "./errors";
export type { VerificationErrorCode } from "./errors";
export { HASH_SIZE, emptyRoot, leafHash, nodeHash, checkHashLength } from "./hasher";
export { toHex, fromHex, toBase64, fromBase64, bytesEqual, concatBytes } from "./encoding";
export { decomposeInclusionProof } from "./tree-math";
export { rootFromInclusionProof, verifyInclusion, chainInner, chainInnerRight, chainBorderRight } from "./inclusion";
export { verifyConsistency } from "./consistency";
export { compactRange, rangeProofShape, rootFromRange, verifyRange } from "./range";
export type { Subtree } from "./range";
export { personalMessageHash, recoverAddress, recoverPublicKey, toChecksumAddress } from "./eip191";
export {
  formatCheckpoint,
  formatSignedCheckpoint,
  parseCheckpoint,
  parseCheckpointBody,
  checkpointSigningPayload,
  verifyCheckpointSignature,
} from "./checkpoint";
export type { Checkpoint, NoteSignature, SignedCheckpoint } from "./checkpoint";
export { inclusionProofsFromRange, receiptSigningPayload, receiptsFromBatch, verifyReceipt } from "./receipt";
export type { BatchProof, Receipt } from "./receipt";
export { canonicalJson } from "./canonical-json";
export { sealDigest, sealSigningPayload, verifySeal } from "./seal";
export type { Seal } from "./seal";
export { ALERT_WEBHOOK_HEADERS, alertWebhookSigningPayload, verifyAlertWebhook } from "./alert-webhook";
export type { AlertWebhookDelivery } from "./alert-webhook";
export {
  SESSION_DOMAIN_NAME, SESSION_KEY_TYPE, SESSION_MAX_LIFETIME_S, SESSION_SCOPES,
  isEd25519PublicKey, recoverSessionCertifier, sessionDomainSeparator, sessionKeyDigest, sessionKeyStructHash, sessionKeyTypedData,
} from "./session-key";
export type { SessionCertificate, SessionScope } from "./session-key";

import { bytesEqual, concatBytes, fromBase64, fromHex, toBase64, toHex } from "./encoding";
import { personalMessageHash, recoverAddress, toChecksumAddress } from "./eip191";
import { VerificationError } from "./errors";
import { HASH_SIZE } from "./hasher";

/*
 * Checkpoints: a C2SP tlog-checkpoint body in a C2SP signed note, signed with an Ethereum key.
 *   https://github.com/C2SP/C2SP/blob/main/tlog-checkpoint.md
 *   https://github.com/C2SP/C2SP/blob/main/signed-note.md
 *
 *   <origin>\n                      e.g. "dcl.example.gov/log/v1"; no spaces, no "+"
 *   <tree size, decimal>\n          no leading zeros
 *   <root hash, base64>\n           standard padded base64 of the 32-byte RFC 6962 root
 *   [<extension line>\n]...         optional, non-empty, passed through
 *   \n
 *   — <origin> <base64(signer ‖ signature)>\n      one or more signature lines
 *
 * Instead of signed-note's 4-byte key hash and Ed25519 signature, our signature bytes are
 * the 20-byte address of the operator's secp256k1 key (the key registered on chain as a
 * department signer) followed by its 65-byte r‖s‖v EIP-191 personal_sign signature over
 * the body bytes (everything before the blank line, final newline included), i.e. exactly
 * what ethers' `wallet.signMessage(body)` returns. Signature lines under other key names
 * (e.g. witness cosignatures) are kept but not interpreted.
 */

const encoder = new TextEncoder();
const SIG_PREFIX = "\u2014 "; // em dash, space
const SIGNER_BYTES = 20;
const SIG_BYTES = 65;
const ORIGIN_RE = /^[^\s+\u2014]+$/u;
const SIZE_RE = /^(?:0|[1-9][0-9]*)$/;
const CONTROL_RE = /[\u0000-\u0009\u000b-\u001f\u007f]/;

/** A checkpoint: the log's origin, tree size and root hash (plus opaque extension lines). */
export interface Checkpoint {
  origin: string;
  size: number;
  root: Uint8Array;
  extensions?: string[];
}

/** One signature line of a signed note; `signer`/`signature` are set only for our key type. */
export interface NoteSignature {
  keyName: string;
  bytes: Uint8Array;
  signer: string | null;
  signature: Uint8Array | null;
}

/** A parsed signed checkpoint: the checkpoint, its exact body text and its signature lines. */
export interface SignedCheckpoint {
  checkpoint: Checkpoint;
  body: string;
  signatures: NoteSignature[];
}

function malformed(message: string, code: "CHECKPOINT_MALFORMED" | "CHECKPOINT_ORIGIN_INVALID" | "CHECKPOINT_SIZE_INVALID" | "CHECKPOINT_ROOT_INVALID" | "CHECKPOINT_SIGNATURE_MALFORMED" = "CHECKPOINT_MALFORMED"): VerificationError {
  return new VerificationError(code, message);
}

function checkOrigin(origin: string): void {
  if (!ORIGIN_RE.test(origin)) throw malformed(`origin ${JSON.stringify(origin)} is empty or has spaces or "+"`, "CHECKPOINT_ORIGIN_INVALID");
}

/** The checkpoint body text: origin, size and base64 root, each on its own line, then any extensions. */
export function formatCheckpoint(checkpoint: Checkpoint): string {
  checkOrigin(checkpoint.origin);
  if (!Number.isSafeInteger(checkpoint.size) || checkpoint.size < 0) {
    throw malformed(`tree size ${checkpoint.size} is not a non-negative safe integer`, "CHECKPOINT_SIZE_INVALID");
  }
  if (checkpoint.root.length !== HASH_SIZE) throw malformed(`root is ${checkpoint.root.length} bytes, want ${HASH_SIZE}`, "CHECKPOINT_ROOT_INVALID");
  for (const ext of checkpoint.extensions ?? []) {
    if (ext === "" || ext.includes("\n") || CONTROL_RE.test(ext)) throw malformed(`extension line ${JSON.stringify(ext)} is empty or has control characters`);
  }
  const lines = [checkpoint.origin, String(checkpoint.size), toBase64(checkpoint.root), ...(checkpoint.extensions ?? [])];
  return lines.map((l) => l + "\n").join("");
}

/** The bytes the operator signs with EIP-191 personal_sign: the UTF-8 checkpoint body. */
export function checkpointSigningPayload(checkpoint: Checkpoint): Uint8Array {
  return encoder.encode(formatCheckpoint(checkpoint));
}

/** A complete signed note: the body, a blank line and one signature line per signer. */
export function formatSignedCheckpoint(checkpoint: Checkpoint, signatures: { signer: string; signature: Uint8Array }[]): string {
  if (signatures.length === 0) throw malformed("a signed checkpoint needs at least one signature", "CHECKPOINT_SIGNATURE_MALFORMED");
  const lines = signatures.map(({ signer, signature }) => {
    const address = fromHex(signer);
    if (address.length !== SIGNER_BYTES || signature.length !== SIG_BYTES) {
      throw malformed(`signer must be 20 bytes and signature 65, got ${address.length} and ${signature.length}`, "CHECKPOINT_SIGNATURE_MALFORMED");
    }
    return `${SIG_PREFIX}${checkpoint.origin} ${toBase64(concatBytes(address, signature))}\n`;
  });
  return formatCheckpoint(checkpoint) + "\n" + lines.join("");
}

/** Parses a checkpoint body (origin, size, root, extensions), strictly. */
export function parseCheckpointBody(body: string): Checkpoint {
  if (!body.endsWith("\n")) throw malformed("checkpoint body does not end in a newline");
  if (CONTROL_RE.test(body)) throw malformed("checkpoint body has control characters");
  const lines = body.slice(0, -1).split("\n");
  if (lines.length < 3) throw malformed(`checkpoint body has ${lines.length} lines, want at least 3`);
  const [origin, sizeText, rootText, ...extensions] = lines;
  checkOrigin(origin);
  if (!SIZE_RE.test(sizeText) || !Number.isSafeInteger(Number(sizeText))) {
    throw malformed(`tree size ${JSON.stringify(sizeText)} is not a canonical decimal safe integer`, "CHECKPOINT_SIZE_INVALID");
  }
  let root: Uint8Array;
  try {
    root = fromBase64(rootText);
  } catch {
    throw malformed(`root ${JSON.stringify(rootText)} is not base64`, "CHECKPOINT_ROOT_INVALID");
  }
  if (root.length !== HASH_SIZE) throw malformed(`root is ${root.length} bytes, want ${HASH_SIZE}`, "CHECKPOINT_ROOT_INVALID");
  if (extensions.some((e) => e === "")) throw malformed("checkpoint body has an empty line");
  return { origin, size: Number(sizeText), root, extensions };
}

/** Parses a signed checkpoint note strictly: body, blank line, one or more signature lines. */
export function parseCheckpoint(note: string): SignedCheckpoint {
  const split = note.indexOf("\n\n");
  if (split < 0) throw malformed("note has no blank line between body and signatures");
  const body = note.slice(0, split + 1);
  const checkpoint = parseCheckpointBody(body);
  const sigText = note.slice(split + 2);
  if (sigText === "" ) throw malformed("note has no signature lines", "CHECKPOINT_SIGNATURE_MALFORMED");
  if (!sigText.endsWith("\n")) throw malformed("note does not end in a newline", "CHECKPOINT_SIGNATURE_MALFORMED");
  if (CONTROL_RE.test(sigText)) throw malformed("signature lines have control characters", "CHECKPOINT_SIGNATURE_MALFORMED");
  const signatures = sigText.slice(0, -1).split("\n").map((line): NoteSignature => {
    const parts = line.startsWith(SIG_PREFIX) ? line.slice(SIG_PREFIX.length).split(" ") : [];
    if (parts.length !== 2 || !ORIGIN_RE.test(parts[0])) {
      throw malformed(`signature line ${JSON.stringify(line.slice(0, 120))} is not "— <name> <base64>"`, "CHECKPOINT_SIGNATURE_MALFORMED");
    }
    const [keyName, b64] = parts;
    let bytes: Uint8Array;
    try {
      bytes = fromBase64(b64);
    } catch {
      throw malformed(`signature by ${keyName} is not base64`, "CHECKPOINT_SIGNATURE_MALFORMED");
    }
    if (keyName !== checkpoint.origin) return { keyName, bytes, signer: null, signature: null };
    if (bytes.length !== SIGNER_BYTES + SIG_BYTES) {
      throw malformed(`signature by ${keyName} is ${bytes.length} bytes, want ${SIGNER_BYTES + SIG_BYTES}`, "CHECKPOINT_SIGNATURE_MALFORMED");
    }
    return {
      keyName,
      bytes,
      signer: toChecksumAddress(bytes.subarray(0, SIGNER_BYTES)),
      signature: bytes.slice(SIGNER_BYTES),
    };
  });
  return { checkpoint, body, signatures };
}

/**
 * Checks the operator signatures (lines named by the origin) of a signed checkpoint and
 * returns the checksummed signer. With `expectedSigners`, signatures by other addresses are
 * ignored and one by an expected signer is required; without, every one must verify.
 */
export function verifyCheckpointSignature(note: string | SignedCheckpoint, expectedSigners?: string[]): string {
  const parsed = typeof note === "string" ? parseCheckpoint(note) : note;
  const digest = personalMessageHash(encoder.encode(parsed.body));
  const expected = expectedSigners?.map((a) => toChecksumAddress(fromHex(a)));
  const ours = parsed.signatures.filter((s) => s.signer !== null && s.signature !== null);
  if (ours.length === 0) {
    throw new VerificationError("CHECKPOINT_SIGNATURE_MISSING", `no signature line names the origin ${parsed.checkpoint.origin}`, {
      origin: parsed.checkpoint.origin,
    });
  }
  let found: string | null = null;
  for (const s of ours) {
    const claimed = s.signer as string;
    if (expected && !expected.includes(claimed)) continue;
    const recovered = recoverAddress(digest, s.signature as Uint8Array);
    if (recovered === null || !bytesEqual(fromHex(recovered), fromHex(claimed))) {
      throw new VerificationError(
        "CHECKPOINT_SIGNATURE_INVALID",
        `signature claimed by ${claimed} over checkpoint ${parsed.checkpoint.origin} size ${parsed.checkpoint.size} ` +
          `does not verify (recovered ${recovered ?? "nothing"})`,
        { signer: claimed, recovered: recovered ?? "", size: parsed.checkpoint.size, root: toHex(parsed.checkpoint.root) },
      );
    }
    found ??= claimed;
  }
  if (found === null) {
    throw new VerificationError(
      "CHECKPOINT_SIGNER_UNKNOWN",
      `checkpoint is signed by ${ours.map((s) => s.signer).join(", ")}, none of the expected ${(expected ?? []).join(", ")}`,
      { signers: ours.map((s) => s.signer).join(","), expected: (expected ?? []).join(",") },
    );
  }
  return found;
}

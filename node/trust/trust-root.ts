/**
 * A trust root: what a verifier knows of one dcl deployment without trusting its operator — the
 * chain, the deployment's contracts as its registry records them, every department's signer keys
 * with the interval each was valid, the roles, and the logs with their operating departments, all
 * read from the chain at one block (node/trust/export-trust-root.ts). A bundle is *authentic* for a
 * trust root when it names that deployment and every signature in it was made by a key valid for
 * its department at the moment of the act. Pure: no I/O, runs in a browser. Format: docs/formats.md.
 */
import { z } from "zod";
import { canonicalJson, toHex } from "../verify";
import { sha256 } from "@noble/hashes/sha2";

export const TRUST_ROOT_VERSION = "dcl-trust-root/v1";

const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/, "an 0x-hex address").transform((s) => s.toLowerCase());
const bytes32 = z.string().regex(/^0x[0-9a-fA-F]{64}$/, "an 0x-hex bytes32").transform((s) => s.toLowerCase());
const uint = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
/** A point on the chain: a block and its timestamp (unix seconds). */
const point = z.object({ block: uint, timestamp: uint }).strict();
/** [from, until): until is null while it still holds at the trust root's block. */
const interval = z.object({ from: point, until: point.nullable() }).strict();

const schema = z
  .object({
    version: z.literal(TRUST_ROOT_VERSION),
    chainId: z.string().regex(/^[1-9][0-9]{0,77}$/, "a decimal chain id"),
    registry: address,
    contracts: z.object({ registry: address, catalog: address, anchors: address, agreements: address, consents: address, transfers: address }).strict(),
    deployedAtBlock: uint,
    takenAt: z.object({ block: uint, hash: bytes32, timestamp: uint }).strict(),
    departments: z.array(
      z.object({
        id: bytes32,
        level: z.number().int().min(0).max(4),
        parent: bytes32,
        registered: point,
        active: z.array(interval),
        signers: z.array(interval.extend({ address })),
      }).strict(),
    ),
    roles: z.array(interval.extend({ role: z.string(), roleId: bytes32, account: address })),
    logs: z.array(z.object({ logId: bytes32, operator: bytes32, registered: point }).strict()),
  })
  .strict();

export type ChainPoint = z.infer<typeof point>;
export type Interval = z.infer<typeof interval>;
export type TrustRoot = z.infer<typeof schema>;
export type TrustDepartment = TrustRoot["departments"][number];

/** The trust root in `json`, or an error naming the first field that is wrong. */
export function parseTrustRoot(json: unknown): TrustRoot {
  const r = schema.safeParse(json);
  if (!r.success) {
    const i = r.error.issues[0];
    throw new Error(`not a ${TRUST_ROOT_VERSION} trust root: ${i.path.join(".") || "(root)"}: ${i.message}`);
  }
  if (r.data.contracts.registry !== r.data.registry) throw new Error("not a trust root: contracts.registry is not registry");
  return r.data;
}

/** SHA-256 of the trust root's RFC 8785 canonical JSON: compare it out of band to know two parties hold the same root. */
export function trustRootFingerprint(root: TrustRoot): string {
  return toHex(sha256(new TextEncoder().encode(canonicalJson(root))));
}

/** When an act happened: on chain (its block, and the block's time) or off chain (a unix time only). */
export type ActMoment = { block: number; timestamp?: number } | { timestamp: number; block?: undefined };

/**
 * Is `at` inside `iv`, [from, until)? On-chain acts compare blocks, off-chain acts compare times. An
 * act in the very block (or second) a key was removed counts as after the removal: a root knows
 * blocks, not the order of transactions inside one, and a verifier must not accept what it cannot tell.
 */
function within(iv: Interval, at: ActMoment): boolean {
  if (at.block !== undefined) return iv.from.block <= at.block && (iv.until === null || at.block < iv.until.block);
  return iv.from.timestamp <= at.timestamp && (iv.until === null || at.timestamp < iv.until.timestamp);
}

function describe(at: ActMoment): string {
  return at.block !== undefined ? `block ${at.block}` : `time ${at.timestamp}`;
}

function describePoint(p: ChainPoint): string {
  return `block ${p.block} (time ${p.timestamp})`;
}

/** Whether a key could act for a department at a moment, and why not. */
export type KeyVerdict = { ok: true; detail: string } | { ok: false; detail: string };

/**
 * Was `key` a signer of the active department `departmentId` at `at`, according to `root`? A moment
 * after the trust root's block is judged by what held at that block (say so: a later removal is
 * unknown to the root; `--rpc` sees it).
 */
export function keyValidAt(root: TrustRoot, departmentId: string, key: string, at: ActMoment): KeyVerdict {
  const dept = root.departments.find((d) => d.id === departmentId.toLowerCase());
  if (!dept) return { ok: false, detail: `department ${departmentId} is not in the trust root's registry ${root.registry}` };
  const k = key.toLowerCase();
  const intervals = dept.signers.filter((s) => s.address === k);
  if (intervals.length === 0) return { ok: false, detail: `${key} was never a signer of department ${departmentId}` };
  const held = intervals.find((iv) => within(iv, at));
  if (!held) {
    const before = intervals.filter((iv) => iv.until !== null && (at.block !== undefined ? iv.until.block <= at.block : iv.until.timestamp <= at.timestamp)).at(-1);
    if (before?.until) return { ok: false, detail: `${key} left department ${departmentId} at ${describePoint(before.until)}, before this act at ${describe(at)}` };
    const first = intervals[0];
    return { ok: false, detail: `${key} became a signer of department ${departmentId} only at ${describePoint(first.from)}, after this act at ${describe(at)}` };
  }
  if (!dept.active.some((iv) => within(iv, at))) return { ok: false, detail: `department ${departmentId} was not active at ${describe(at)}` };
  const beyond = (at.block !== undefined ? at.block > root.takenAt.block : at.timestamp > root.takenAt.timestamp) && held.until === null;
  return {
    ok: true,
    detail: `${key} was a signer of ${departmentId} at ${describe(at)} (since ${describePoint(held.from)}${held.until ? `, until ${describePoint(held.until)}` : ""})${beyond ? `; the act is after the trust root's block ${root.takenAt.block}, so a later removal is not known to it` : ""}`,
  };
}

/** The department operating log `logId` per `root`, or undefined. */
export function logOperator(root: TrustRoot, logId: string): string | undefined {
  return root.logs.find((l) => l.logId === logId.toLowerCase())?.operator;
}

/**
 * The facts `dcl receipts check` judges receipts by, from sources a department does not have to
 * trust: the chain (the trust root of the deployment read live from its pinned registry — who
 * operates each log, which keys its department had when — and the latest checkpoint anchored in
 * LogAnchors) and, for the proofs only, the log's public API. The API's own root is never used: its
 * proofs are verified against the root on chain, so a lying API can fail a check but never pass one.
 */
import type { JsonRpcProvider } from "ethers";
import { LogAnchors__factory } from "../../typechain-types";
import { DclError } from "../errors";
import { connectRpc, exportTrustRoot } from "../trust/export-trust-root";
import { keyValidAt, logOperator, trustRootFingerprint, type TrustRoot } from "../trust/trust-root";
import type { AnchoredCheckpoint, KeyJudgement, ReceiptSources, ServedInclusion } from "./receipt-check";

/** Where to read from. */
export interface ChainSourceOptions {
  rpcUrl: string;
  /** The deployment's pinned DepartmentRegistry. */
  registry: string;
  /** Base URL of the log's API (proofs only). */
  apiUrl: string;
  /** Timeout of one request to the API (ms). Default 10 s. */
  timeoutMs?: number;
}

/** Sources read from the chain and the log's API; `close()` releases the RPC connection. */
export interface ChainSources extends ReceiptSources {
  trust: TrustRoot;
  fingerprint: string;
  close(): void;
}

const unavailable = (code: string, message: string) => new DclError("unavailable", code, message);

/** Connects to the chain and reads the deployment's trust root at its head (throws when the chain or the registry cannot be read). */
export async function openChainSources(o: ChainSourceOptions): Promise<ChainSources> {
  const provider: JsonRpcProvider = await connectRpc(o.rpcUrl);
  try {
    const trust = await exportTrustRoot(provider, o.registry);
    const anchors = LogAnchors__factory.connect(trust.contracts.anchors, provider);
    const at = { blockTag: trust.takenAt.block };
    const api = o.apiUrl.replace(/\/+$/, "");
    const timeoutMs = o.timeoutMs ?? 10_000;
    let served: Promise<string> | undefined;

    const get = async (path: string): Promise<{ status: number; body: unknown }> => {
      let res: Response;
      try {
        res = await fetch(api + path, { signal: AbortSignal.timeout(timeoutMs), headers: { accept: "application/json" } });
      } catch (err) {
        throw unavailable("RECEIPT_LOG_UNAVAILABLE", `GET ${api}${path} failed: ${(err as Error).message}`);
      }
      const text = await res.text();
      try {
        return { status: res.status, body: JSON.parse(text) };
      } catch {
        throw unavailable("RECEIPT_LOG_ANSWER_INVALID", `GET ${api}${path} answered ${res.status} with no JSON: ${text.slice(0, 200)}`);
      }
    };
    /** The log the API serves (asked once). */
    const apiLog = () =>
      (served ??= get("/v1/log/checkpoint").then(({ status, body }) => {
        const logId = (body as { logId?: unknown }).logId;
        if (status !== 200 || typeof logId !== "string") throw unavailable("RECEIPT_LOG_UNAVAILABLE", `${api}/v1/log/checkpoint answered ${status}: ${JSON.stringify(body).slice(0, 200)}`);
        return logId.toLowerCase();
      }));

    return {
      trust,
      fingerprint: trustRootFingerprint(trust),
      chainId: BigInt(trust.chainId),
      async operatorOf(logId) {
        return logOperator(trust, logId);
      },
      async keyValid(department, key, time): Promise<KeyJudgement> {
        if (time !== undefined) return keyValidAt(trust, department, key, { timestamp: time });
        const held = trust.departments.find((d) => d.id === department.toLowerCase())?.signers.filter((s) => s.address === key.toLowerCase()) ?? [];
        if (held.length === 0) return { ok: false, detail: `${key} was never a signer of department ${department}` };
        return { ok: true, detail: `${key} was a signer of ${department} (from block ${held[0].from.block}); the entry's time is unknown, so not judged at it` };
      },
      async latestAnchor(logId): Promise<AnchoredCheckpoint | undefined> {
        const count = Number(await anchors.checkpointCount(logId, at));
        if (count === 0) return undefined;
        const cp = await anchors.checkpointAt(logId, count - 1, at);
        const block = Number(cp.blockNumber);
        const events = await anchors.queryFilter(anchors.filters.CheckpointAnchored(logId, count - 1), block, block);
        return {
          index: count - 1, treeSize: Number(cp.treeSize), root: cp.root.toLowerCase(), block, timestamp: Number(cp.timestamp),
          ...(events[0] && { tx: events[0].transactionHash }),
        };
      },
      async inclusion(logId, index, treeSize) {
        const log = await apiLog();
        if (log !== logId.toLowerCase()) throw unavailable("RECEIPT_OTHER_LOG", `the API at ${api} serves log ${log}, not log ${logId}: give --api of that log's node`);
        const { status, body } = await get(`/v1/log/proofs/inclusion?index=${index}&treeSize=${treeSize}`);
        // The log's own "no such entry" (NOT_FOUND) for an index its anchored tree holds: it cannot show the entry.
        if (status === 404 && (body as { error?: { code?: unknown } }).error?.code === "NOT_FOUND") return { notServed: `${api} answered 404: ${JSON.stringify(body).slice(0, 300)}` };
        const b = body as Partial<ServedInclusion>;
        if (status !== 200 || typeof b.index !== "number" || typeof b.treeSize !== "number" || typeof b.leafHash !== "string" || !Array.isArray(b.proof) || !b.proof.every((p) => typeof p === "string")) {
          throw unavailable("RECEIPT_LOG_ANSWER_INVALID", `GET ${api}/v1/log/proofs/inclusion answered ${status}: ${JSON.stringify(body).slice(0, 200)}`);
        }
        return { served: { index: b.index, treeSize: b.treeSize, leafHash: b.leafHash, proof: b.proof, ...(typeof b.root === "string" && { root: b.root }) } };
      },
      close: () => provider.destroy(),
    };
  } catch (err) {
    provider.destroy();
    throw err;
  }
}

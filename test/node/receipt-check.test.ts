/**
 * The judgement of receipts (node/receipts/receipt-check.ts) over sources made up here: a log of
 * eight entries in memory, an anchor at six, and sources that fail or answer wrongly on purpose.
 */
import { expect } from "chai";
import { Wallet } from "ethers";
import { codeId } from "../../node/chain/ids";
import { encodeEntry, type AccessLogEntry } from "../../node/log/entry";
import { MemoryTree } from "../../node/merkle/memory-tree";
import { checkReceipts, type AnchoredCheckpoint, type ReceiptItem, type ReceiptSources, type ServedInclusion } from "../../node/receipts/receipt-check";
import { leafHash, receiptSigningPayload, toHex, type Receipt } from "../../node/verify";
import { sampleEntry } from "./entry-samples";

const ORIGIN = "dcl/31337/log.unit";
const LOG = codeId("log.unit");
const OPERATOR = codeId("cq.unit");
const key = new Wallet(Wallet.createRandom().privateKey);
const entries: AccessLogEntry[] = Array.from({ length: 8 }, (_, i) => sampleEntry(i));
const leaves = entries.map((e) => leafHash(encodeEntry(e)));
const log = MemoryTree.fromLeafHashes(leaves);
const anchoredTree = MemoryTree.fromLeafHashes(leaves.slice(0, 6));
const anchor: AnchoredCheckpoint = { index: 0, treeSize: 6, root: toHex(anchoredTree.root()), block: 10, timestamp: entries[5].time };

/** The receipts of one batch [first, first + count), signed once. */
function batch(first: number, count: number): Receipt[] {
  const tree = MemoryTree.fromLeafHashes(leaves.slice(first, first + count));
  const root = toHex(tree.root());
  const signature = key.signMessageSync(receiptSigningPayload(ORIGIN, first, count, root));
  return Array.from({ length: count }, (_, i) => ({
    origin: ORIGIN, index: first + i, leafHash: toHex(leaves[first + i]),
    batch: { first, count, root, proof: tree.inclusionProof(i).map(toHex) }, signer: key.address, signature,
  }));
}

/** Sources over the in-memory log, with hooks to break them. */
function sources(over: Partial<ReceiptSources> = {}, asked: string[] = []): ReceiptSources {
  return {
    chainId: 31337n,
    operatorOf: async (id) => (id === LOG ? OPERATOR : undefined),
    keyValid: async (_d, k) => ({ ok: k.toLowerCase() === key.address.toLowerCase(), detail: "unit" }),
    latestAnchor: async () => anchor,
    inclusion: async (_id, index, size) => {
      asked.push(`${index}/${size}`);
      const tree = MemoryTree.fromLeafHashes(leaves.slice(0, size));
      const served: ServedInclusion = { index, treeSize: size, leafHash: toHex(tree.leafHash(index)), proof: tree.inclusionProof(index).map(toHex) };
      return { served };
    },
    ...over,
  };
}

const items = (receipts: Receipt[], withEntry = true): ReceiptItem[] => receipts.map((r) => (withEntry ? { receipt: r, entry: entries[r.index] } : { receipt: r }));
const options = (now: number) => ({ anchorIntervalMs: 1500, graceSeconds: 10, now });

describe("receipt judgement", () => {
  const receipts = [...batch(0, 4), ...batch(4, 4)];

  it("keeps what the anchor covers, and finds the rest pending up to time + ceil(interval) + grace, then overdue", async () => {
    const due = entries[6].time + 2 + 10;
    const at = await checkReceipts(items(receipts), sources(), options(due));
    expect(at.results.map((r) => r.verdict)).to.deep.equal(["kept", "kept", "kept", "kept", "kept", "kept", "pending", "pending"]);
    expect(at.results[6].dueBy).to.equal(due);
    const after = await checkReceipts(items(receipts), sources(), options(due + 1));
    expect(after.results.map((r) => r.verdict).slice(6)).to.deep.equal(["overdue", "pending"]); // entry 7 is a second younger
    expect(after.summary).to.deep.equal({ kept: 6, pending: 1, overdue: 1, broken: 0, invalid: 0, unchecked: 0 });
  });

  it("asks the log once per entry and tree size, however many receipts name it", async () => {
    const asked: string[] = [];
    await checkReceipts(items([...receipts.slice(0, 3), ...receipts.slice(0, 3)]), sources({}, asked), options(0));
    expect(asked.sort()).to.deep.equal(["0/6", "1/6", "2/6"]);
  });

  it("leaves a receipt unchecked, never broken, when the chain or the log cannot answer, or answers for another entry", async () => {
    const down = await checkReceipts(items(receipts.slice(0, 1)), sources({ latestAnchor: async () => Promise.reject(new Error("connection refused")) }), options(0));
    expect(down.results[0]).to.include({ verdict: "unchecked", code: "RECEIPT_CHAIN_UNAVAILABLE" });
    const away = await checkReceipts(items(receipts.slice(0, 1)), sources({ inclusion: async () => Promise.reject(Object.assign(new Error("timeout"), { code: "RECEIPT_LOG_UNAVAILABLE" })) }), options(0));
    expect(away.results[0]).to.include({ verdict: "unchecked", code: "RECEIPT_LOG_UNAVAILABLE" });
    const other = await checkReceipts(items(receipts.slice(1, 2)), sources({ inclusion: async (_id, _i, size) => ({ served: { index: 0, treeSize: size, leafHash: toHex(leaves[0]), proof: [] } }) }), options(0));
    expect(other.results[0]).to.include({ verdict: "unchecked", code: "RECEIPT_LOG_ANSWER_INVALID" });
  });

  it("finds a receipt broken when the log serves its leaf with a proof that does not reach the anchored root", async () => {
    const wrong = await checkReceipts(items(receipts.slice(2, 3)), sources({
      inclusion: async (_id, index, size) => ({ served: { index, treeSize: size, leafHash: toHex(leaves[index]), proof: log.inclusionProof(index).map(toHex) } }),
    }), options(0));
    expect(wrong.results[0]).to.include({ verdict: "broken" });
    expect(wrong.results[0].receipt).to.deep.equal(receipts[2]);
  });

  it("judges the signer at the entry's time when the entry is given, and at no time when it is not", async () => {
    const times: (number | undefined)[] = [];
    const s = sources({ keyValid: async (_d, _k, t) => (times.push(t), { ok: true, detail: "unit" }) });
    await checkReceipts(items(receipts.slice(0, 1)), s, options(0));
    await checkReceipts(items(receipts.slice(0, 1), false), s, options(0));
    expect(times).to.deep.equal([entries[0].time, undefined]);
  });
});

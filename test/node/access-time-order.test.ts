/**
 * The access log is in time order: the access ledger never logs a call at a time earlier than the
 * log's latest entry, whether its clock stepped back or a concurrent request logged a later second
 * while this one was still reading agreements and consents.
 */
import { expect } from "chai";
import { ethers } from "ethers";
import { AccessLedger, type AccessCall } from "../../node/access/access-ledger";
import type { Indexer } from "../../node/indexer/indexer";
import { D, R, signTyped, startNodeHarness, type NodeHarness } from "../support/node-harness";

const h32 = (s: string) => ethers.id(s);
let n = 0;
const call = (agreementId: string): AccessCall => ({ agreementId, recordCount: 1, requestHash: h32(`req${n++}`), responseHash: h32(`res${n++}`) });

describe("access ledger time order (against anvil)", function () {
  let h: NodeHarness;
  let agreement: string;
  const wall = () => Math.floor(Date.now() / 1000);

  before(async () => {
    h = await startNodeHarness();
    const terms = {
      provider: D.water, consumer: D.tax, resource: R.waterFees, purposeHash: h32("fees"), quota: "1000",
      validFrom: String(wall() - 60), validUntil: String(wall() + 86400), nonce: "1",
    };
    const { draft, typedData } = await h.node.agreements.draft(D.tax, terms);
    await h.node.agreements.sign(draft.id, D.water, await signTyped(h.keys.water, typedData));
    await h.node.agreements.sign(draft.id, D.tax, await signTyped(h.keys.tax, typedData));
    agreement = draft.id;
  });
  after(async () => h?.close());

  const ledger = (now: () => number, indexer: Indexer = h.node.indexer) => new AccessLedger({ ...h.node.access.options, indexer, now });

  it("logs a call at the log's latest time when the clock stepped back", async () => {
    const t = wall() + 100;
    const [first] = await ledger(() => t).record(D.tax, [call(agreement)]);
    const [second] = await ledger(() => t - 30).record(D.tax, [call(agreement)]);
    expect(first.time).to.equal(t);
    expect(second.outcome).to.equal("served");
    expect(second.time).to.equal(t);
    expect((await h.node.log.getEntry(second.index)).time).to.equal(t);
  });

  it("decides again at the later second when a concurrent request logged one while it was reading", async () => {
    const t = h.node.log.lastTime() + 10;
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    // The slow request's agreement read waits until the fast request is logged.
    const slowIndexer = Object.create(h.node.indexer, {
      agreement: { value: async (id: string) => { await gate; return h.node.indexer.agreement(id); } },
    }) as Indexer;
    const slow = ledger(() => t, slowIndexer).record(D.tax, [call(agreement)]);
    const [fast] = await ledger(() => t + 5).record(D.tax, [call(agreement)]);
    open();
    const [late] = await slow;
    expect(fast.time).to.equal(t + 5);
    expect(late.index).to.equal(fast.index + 1);
    expect(late.time).to.equal(t + 5);
    expect(late.entry.time).to.equal(t + 5);
    const times = await Promise.all(Array.from({ length: h.node.log.size() }, (_, i) => h.node.log.getEntry(i).then((e) => e.time)));
    expect(times).to.deep.equal([...times].sort((a, b) => a - b));
  });
});

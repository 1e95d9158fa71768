import { expect } from "chai";
import { ethers } from "ethers";
import { startApiHarness, type ApiHarness } from "../support/api-harness";
import { D, R } from "../support/node-harness";

describe("api smoke", function () {
  let h: ApiHarness;
  before(async () => (h = await startApiHarness()));
  after(async () => h?.stop());

  it("co-signs an agreement and logs a call over HTTP", async () => {
    const now = Math.floor(Date.now() / 1000);
    const draft = await h.client.tax.post<{ id: string; typedData: never }>("/v1/agreements", {
      provider: D.water, consumer: D.tax, resource: R.waterFees, purpose: "fees", quota: "10", validFrom: now - 10, validUntil: now + 3600,
    });
    await h.client.water.post(`/v1/agreements/${draft.id}/signatures`, { signature: await h.client.water.signTypedData(draft.typedData) });
    const r = await h.client.tax.post<{ active: boolean }>(`/v1/agreements/${draft.id}/signatures`, { signature: await h.client.tax.signTypedData(draft.typedData) });
    expect(r.active).to.equal(true);
    const out = await h.client.tax.post<{ served: number }>("/v1/access", { calls: [{ agreementId: draft.id, recordCount: 3, requestHash: ethers.id("a"), responseHash: ethers.id("b") }] });
    expect(out.served).to.equal(1);
    const cp = await fetch(h.baseUrl + "/v1/log/checkpoint").then((x) => x.json());
    expect(cp.treeSize).to.equal(1);
  });
});

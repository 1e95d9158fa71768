/**
 * Each fee record's own arithmetic holds exactly, in integer fen: a water-resource fee's amountFen is
 * volumeM3 × rateFenPerM3, a civil-air-defence relocation fee's is areaM2 × rateFenPerM2. A batch
 * with a record that does not add up is refused (400 FEE_RECORD_ARITHMETIC, naming the record),
 * and nothing of it is kept.
 */
import { expect } from "chai";
import { refused } from "../support/api-refused";
import { startApiHarness, type ApiHarness } from "../support/api-harness";
import { D } from "../support/node-harness";

const water = (volumeM3: string, rateFenPerM3: string, amountFen: string, n = 1) => ({
  payer: "91500000MA5U000001", permitNo: `CQ-WR-ARITH-${n}`, period: "202405", volumeM3, rateFenPerM3, amountFen,
});
const cad = (areaM2: string, rateFenPerM2: string, amountFen: string) => ({ payer: "91500000MA5U000001", constructionPermitNo: "CQ-JZ-ARITH-1", areaM2, rateFenPerM2, amountFen });

describe("api fee records: each record's arithmetic", function () {
  let h: ApiHarness;
  before(async () => (h = await startApiHarness()));
  after(async () => h?.stop());

  const postWater = (records: unknown[]) => h.client.water.post<{ batch: { totalFen: string; recordCount: string } }>("/v1/transfers", { to: D.tax, category: "water-resource-fee", period: 202405, records });
  const postCad = (records: unknown[]) => h.client.cad.post<{ batch: { totalFen: string } }>("/v1/transfers", { to: D.tax, category: "civil-air-defence-relocation-fee", period: 202405, records });

  it("accepts water records whose amount is exactly volume × rate, including products beyond 2^53", async () => {
    const posted = await postWater([water("12000", "15", "180000", 1), water("0", "15", "0", 2), water("999999999", "999999999", "999999998000000001", 3)]);
    expect(posted.batch.recordCount).to.equal("3");
    expect(posted.batch.totalFen).to.equal((180000n + 999999998000000001n).toString());
  });

  it("refuses a water record whose amount is not volume × rate (one fen either way, or a float's rounding) with 400 FEE_RECORD_ARITHMETIC naming the record", async () => {
    for (const amount of ["180001", "179999", "0", "1800000"]) {
      const e = await refused(postWater([water("12000", "15", "180000", 1), water("12000", "15", amount, 2)]), 400, "FEE_RECORD_ARITHMETIC");
      expect(e.message).to.contain("record 1").and.contain(amount).and.contain("180000");
    }
    // 999999999 × 999999999 = 999999998000000001, which a double rounds to …000000000.
    await refused(postWater([water("999999999", "999999999", "999999998000000000")]), 400, "FEE_RECORD_ARITHMETIC");
    // A product beyond what amountFen may hold cannot be matched by any amount.
    await refused(postWater([water("999999999999999999", "999999999999999999", "1")]), 400, "FEE_RECORD_ARITHMETIC");
  });

  it("checks civil-air-defence records as area × rate", async () => {
    const ok = await postCad([cad("1500", "6000", "9000000")]);
    expect(ok.batch.totalFen).to.equal("9000000");
    const e = await refused(postCad([cad("1500", "6000", "9000001")]), 400, "FEE_RECORD_ARITHMETIC");
    expect(e.message).to.contain("record 0").and.contain("areaM2").and.contain("rateFenPerM2");
  });

  it("still answers RECORD_INVALID for a record that fails its schema, before any arithmetic", async () => {
    await refused(postWater([water("12000", "15", "180000.0")]), 400, "RECORD_INVALID");
    await refused(postWater([water("12000", "1.5", "18000")]), 400, "RECORD_INVALID");
  });
});

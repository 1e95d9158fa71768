/**
 * The assessment (node/assessment): quarters in China Standard Time, the fold over a period's
 * entries, and the Reply 0535 scoring on hand-computed cases at its 95 % / 20 % / 30 % boundaries.
 */
import { expect } from "chai";
import { ethers } from "ethers";
import { AssessmentBuilder, type AgreementTerms } from "../../node/assessment/assess";
import { assessmentCsv } from "../../node/assessment/csv";
import { checkPeriod, quarter, quarterOf } from "../../node/assessment/period";
import { ratio, REFUSAL_SIDE, score } from "../../node/assessment/scoring";
import { REFUSAL } from "../../node/access/refusals";
import type { AccessLogEntry } from "../../node/log/entry";

const id = (s: string) => ethers.id(s);
const ZERO = ethers.ZeroHash;
const [TAX, WATER, CIVIL] = [id("cq.tax"), id("cq.water"), id("cq.civil")];
const [FEES, PEOPLE] = [id("agreement fees"), id("agreement people")];
const Q4 = quarter("2026Q4")!;
const basis = { treeSize: 0, root: ZERO, begin: 0, end: 0, closed: true };

let n = 0;
function entry(over: Partial<AccessLogEntry>): AccessLogEntry {
  n++;
  return {
    time: Q4.from, consumerDept: TAX, providerDept: WATER, resourceId: id("res"), agreementId: FEES, purposeHash: id("p"),
    recordCount: 1, requestHash: id(`q${n}`), responseHash: id(`r${n}`), subjectCommitment: null, outcome: "served", refusalReason: "", ...over,
  };
}
const refused = (reason: string, over: Partial<AccessLogEntry> = {}) => entry({ outcome: "refused", refusalReason: reason, recordCount: 0, ...over });
const times = <T>(k: number, f: () => T) => Array.from({ length: k }, f);

function assess(entries: AccessLogEntry[], terms: Record<string, AgreementTerms> = {}, departments?: string[]) {
  const b = new AssessmentBuilder(Q4);
  entries.forEach((e) => b.add(e));
  return b.finish(basis, (a) => terms[a], departments);
}

describe("assessment", function () {
  describe("periods", function () {
    it("takes quarters in China Standard Time (UTC+08:00)", () => {
      expect(quarter("2026Q4")).to.deep.equal({ label: "2026Q4", from: 1790784000, to: 1798732800 }); // 2026-10-01T00:00+08:00 to 2027-01-01T00:00+08:00
      expect(quarter("2026Q1")).to.deep.equal({ label: "2026Q1", from: 1767196800, to: 1774972800 });
      expect(quarterOf(1790784000)).to.deep.equal(quarter("2026Q4"));
      expect(quarterOf(1790784000 - 1)).to.deep.equal(quarter("2026Q3"));
      for (const bad of ["2026Q5", "2026Q0", "2026q4", "26Q4", "2026Q4 "]) expect(quarter(bad), bad).to.equal(undefined);
      expect(() => checkPeriod({ from: 10, to: 10 })).to.throw("from < to");
      expect(() => checkPeriod({ label: "2026Q3", from: Q4.from, to: Q4.to })).to.throw("does not name");
    });
  });

  describe("figures", function () {
    it("counts each call for its consumer and its provider, with refusals by reason, records and quota use", () => {
      const a = assess([
        entry({ recordCount: 40 }), entry({ recordCount: 10 }), refused("QUOTA_EXCEEDED"), refused("AGREEMENT_UNKNOWN", { providerDept: ZERO, agreementId: id("nope") }),
        entry({ consumerDept: CIVIL, recordCount: 5 }),
      ], { [FEES]: { provider: WATER, consumer: TAX, quota: "200" } });
      expect(a.departments.map((d) => d.department)).to.deep.equal([CIVIL, TAX, WATER].sort());
      const tax = a.departments.find((d) => d.department === TAX)!;
      expect(tax.asConsumer).to.deep.include({ calls: 4, served: 2, refused: 2, records: 50, refusedByReason: { AGREEMENT_UNKNOWN: 1, QUOTA_EXCEEDED: 1 } });
      expect(Object.keys(tax.asConsumer.refusedByReason)).to.deep.equal(["AGREEMENT_UNKNOWN", "QUOTA_EXCEEDED"]);
      expect(tax.asConsumer.nonConforming).to.deep.equal({ numerator: 2, denominator: 4, value: "0.5000" });
      expect(tax.asConsumer.agreements).to.deep.equal([
        { agreementId: FEES, counterpart: WATER, calls: 3, served: 2, records: 50, quota: "200", shareOfQuota: "0.2500" },
        { agreementId: id("nope"), counterpart: ZERO, calls: 1, served: 0, records: 0, quota: null, shareOfQuota: null },
      ].sort((x, y) => (x.agreementId < y.agreementId ? -1 : 1)));
      expect(tax.asProvider.calls).to.equal(0);
      const water = a.departments.find((d) => d.department === WATER)!;
      expect(water.asProvider).to.deep.include({ calls: 4, served: 3, refused: 1, records: 55 });
      expect(water.asProvider.replyRate).to.deep.equal({ numerator: 3, denominator: 3, value: "1.0000" }); // a quota refusal is not the provider's
    });

    it("counts personal-data calls and those served under a valid consent", () => {
      const s = id("subject");
      const a = assess([
        entry({ agreementId: PEOPLE, providerDept: CIVIL, subjectCommitment: s }),
        refused("CONSENT_MISSING", { agreementId: PEOPLE, providerDept: CIVIL, subjectCommitment: s }),
        refused("SUBJECT_REQUIRED", { agreementId: PEOPLE, providerDept: CIVIL }),
        entry({}),
      ], {}, [TAX]);
      expect(a.departments.map((d) => d.department)).to.deep.equal([TAX]);
      expect(a.departments[0].asConsumer.personalData).to.deep.equal({ calls: 3, withValidConsent: 1, share: { numerator: 1, denominator: 3, value: "0.3333" } });
    });

    it("gives zero figures and no deduction to a department asked for that made no call", () => {
      const [d] = assess([entry({})], {}, [CIVIL]).departments;
      expect(d.asConsumer.calls).to.equal(0);
      expect(d.asConsumer.replyRate.value).to.equal(null);
      expect(d.scoring.pointsDeducted).to.equal("0.0");
      expect(d.scoring.deductions.every((x) => !x.applies)).to.equal(true);
    });

    it("gives the timeliness of the calls that reported it: delay to the log entry and latency, median, 95th percentile (nearest rank) and maximum", () => {
      const timed = (delay: number | undefined, latencyMs?: number) =>
        entry({ time: Q4.from + 100, ...(delay === undefined ? {} : { calledAt: Q4.from + 100 - delay }), ...(latencyMs === undefined ? {} : { latencyMs }) });
      // Delays 0…19 s (20 calls) and one reported 5 s after its logging (within the clock skew): 0.
      const entries = [...Array.from({ length: 20 }, (_, i) => timed(i, 100 * (i + 1))), timed(-5), timed(undefined)];
      const [d] = assess(entries, {}, [TAX]).departments;
      expect(d.asConsumer.timeliness).to.deep.equal({
        reported: 21, logDelaySeconds: { median: 9, p95: 18, max: 19 }, // ranks ⌈0.5·21⌉ = 11 and ⌈0.95·21⌉ = 20 of 0,0,1,…,19
        withLatency: 20, latencyMs: { median: 1000, p95: 1900, max: 2000 }, // ranks 10 and 19 of 100…2000
      });
      const [none] = assess([entry({})], {}, [TAX]).departments;
      expect(none.asConsumer.timeliness).to.deep.equal({ reported: 0, logDelaySeconds: null, withLatency: 0, latencyMs: null });
      const row = assessmentCsv(assess(entries, {}, [TAX])).split("\r\n").find((l) => l.includes(",consumer,"))!;
      expect(row.split(",").slice(-3)).to.deep.equal(["18", "1900", "0.0"]);
    });

    it("refuses an entry outside the period", () => {
      const b = new AssessmentBuilder(Q4);
      expect(() => b.add(entry({ time: Q4.to }))).to.throw("outside the period");
      expect(() => b.add(entry({ time: Q4.from - 1 }))).to.throw("outside the period");
      b.add(entry({ time: Q4.to - 1 }));
      expect(b.size).to.equal(1);
    });

    it("writes one CSV row per department and role", () => {
      const csv = assessmentCsv(assess([entry({ recordCount: 3 }), refused("PURPOSE_MISMATCH")]));
      const lines = csv.split("\r\n");
      expect(lines[0]).to.equal("period_from,period_to,department,role,calls,served,refused,records,reply_rate,non_conforming_share,personal_calls,personal_with_consent,refused_by_reason,log_delay_p95_s,latency_p95_ms,points_deducted");
      const row = (d: string, role: string) => lines.find((l) => l.includes(`${d},${role},`))!;
      expect(row(TAX, "consumer")).to.equal(`${Q4.from},${Q4.to},${TAX},consumer,2,1,1,3,1.0000,0.5000,0,0,PURPOSE_MISMATCH:1,,,0.2`); // 50 % non-conforming, no timing reported

      expect(row(WATER, "provider")).to.equal(`${Q4.from},${Q4.to},${WATER},provider,2,1,1,3,1.0000,0.5000,0,0,PURPOSE_MISMATCH:1,,,0.0`); // reported, not scored for a provider
      expect(lines.length).to.equal(1 + 4 + 1); // header, two departments × two roles, and the empty string after the last CRLF
    });
  });

  describe("Reply 0535 §3.1 scoring", function () {
    const provider = (served: number, revoked: number, suspended = 0, consumerSide = 0) =>
      assess([
        ...times(served, () => entry({})), ...times(revoked, () => refused("AGREEMENT_REVOKED")),
        ...times(suspended, () => refused("AGREEMENT_SUSPENDED")), ...times(consumerSide, () => refused("CONSENT_MISSING")),
      ], {}, [WATER]).departments[0];

    it("deducts nothing at exactly 95 % reply rate (19 served, 1 refused on the provider's side)", () => {
      const d = provider(19, 1);
      expect(d.asProvider.replyRate).to.deep.equal({ numerator: 19, denominator: 20, value: "0.9500" });
      expect(d.scoring.deductions[0]).to.deep.include({ rule: "sharing-target-95", applies: false, points: "0.0" });
      expect(d.scoring.pointsDeducted).to.equal("0.0");
    });

    it("deducts 0.1 just below 95 % (18 served, 1 refused: 94.74 %)", () => {
      const d = provider(18, 1);
      expect(d.asProvider.replyRate.value).to.equal("0.9474");
      expect(d.scoring.deductions[0]).to.deep.include({ applies: true, points: "0.1" });
      expect(d.scoring.pointsDeducted).to.equal("0.1");
    });

    it("deducts 0.1 at 9,499 of 10,000 (94.99 %), which rounds to nothing at two places but is below", () => {
      const s = score(ratio(9499, 10000), ratio(0, 0));
      expect(s.deductions[0].figure.value).to.equal("0.9499");
      expect(s.pointsDeducted).to.equal("0.1");
      expect(score(ratio(9500, 10000), ratio(0, 0)).pointsDeducted).to.equal("0.0");
    });

    it("holds neither the regulator's suspensions nor the consumer's non-conforming calls against the provider", () => {
      const d = provider(1, 0, 50, 50);
      expect(d.asProvider.replyRate).to.deep.equal({ numerator: 1, denominator: 1, value: "1.0000" });
      expect(d.asProvider.refused).to.equal(100);
      expect(d.scoring.pointsDeducted).to.equal("0.0");
    });

    const consumer = (calls: number, nonConforming: number, suspended = 0) =>
      assess([
        ...times(calls - nonConforming - suspended, () => entry({})), ...times(nonConforming, () => refused("PURPOSE_MISMATCH")),
        ...times(suspended, () => refused("AGREEMENT_SUSPENDED")),
      ], {}, [TAX]).departments[0];

    it("deducts nothing at exactly 20 % non-conforming calls (2 of 10)", () => {
      const d = consumer(10, 2);
      expect(d.asConsumer.nonConforming.value).to.equal("0.2000");
      expect(d.scoring.deductions[1]).to.deep.include({ rule: "non-conforming-20-30", applies: false, points: "0.0" });
    });

    it("deducts 0.1 just above 20 % (21 of 100) and at exactly 30 % (3 of 10)", () => {
      expect(consumer(100, 21).scoring.deductions[1]).to.deep.include({ applies: true, points: "0.1" });
      const at30 = consumer(10, 3);
      expect(at30.asConsumer.nonConforming.value).to.equal("0.3000");
      expect(at30.scoring.deductions[1].points).to.equal("0.1");
      expect(at30.scoring.pointsDeducted).to.equal("0.1");
    });

    it("deducts 0.2, not 0.3, just above 30 % (31 of 100, and 3,001 of 10,000)", () => {
      expect(consumer(100, 31).scoring.pointsDeducted).to.equal("0.2");
      expect(score(ratio(1, 1), ratio(3001, 10000)).deductions[1]).to.deep.include({ applies: true, points: "0.2" });
      expect(score(ratio(1, 1), ratio(3000, 10000)).deductions[1].points).to.equal("0.1");
    });

    it("does not count suspended calls as the consumer's non-conformity", () => {
      const d = consumer(10, 2, 5);
      expect(d.asConsumer.nonConforming).to.deep.equal({ numerator: 2, denominator: 10, value: "0.2000" });
      expect(d.scoring.pointsDeducted).to.equal("0.0");
    });

    it("puts every refusal code the node writes on a side: a resource made unshareable is the provider's, another log's agreement the consumer's, a deactivated department neither's", () => {
      const entries = [
        ...times(18, () => entry({})), ...times(2, () => refused("RESOURCE_NOT_SHAREABLE")),
        ...times(3, () => refused("AGREEMENT_OTHER_LOG")), ...times(7, () => refused("DEPARTMENT_INACTIVE")),
      ];
      const [tax, water] = assess(entries, {}, [TAX, WATER]).departments;
      expect(water.asProvider.replyRate).to.deep.equal({ numerator: 18, denominator: 20, value: "0.9000" });
      expect(water.scoring.pointsDeducted).to.equal("0.1");
      expect(tax.asConsumer.nonConforming).to.deep.equal({ numerator: 3, denominator: 30, value: "0.1000" });
      // Every code of node/access/refusals.ts has a side (a new one must be placed before it ships).
      for (const code of Object.values(REFUSAL)) expect(REFUSAL_SIDE, code).to.have.property(code);
    });

    it("adds the two rules for a department below both targets (0.1 + 0.2)", () => {
      expect(score(ratio(90, 100), ratio(40, 100)).pointsDeducted).to.equal("0.3");
    });

    it("rounds half up at four places from exact fractions", () => {
      expect(ratio(1, 3).value).to.equal("0.3333");
      expect(ratio(2, 3).value).to.equal("0.6667");
      expect(ratio(1, 20000).value).to.equal("0.0001"); // 0.00005 rounds up
      expect(ratio(1, 20001).value).to.equal("0.0000");
      expect(ratio(7, 7).value).to.equal("1.0000");
    });
  });
});

/**
 * The log rules of the risk alerts (node/alerts/log-rules.ts) on hand-made entries: each rule at its
 * threshold and just past it, once per agreement or window, and the same alerts whether the log is
 * folded in one pass or in pieces with the state saved as JSON in between (what a restart does).
 */
import { expect } from "chai";
import fc from "fast-check";
import { ethers } from "ethers";
import { DEFAULT_ALERT_CONFIG, alertId, type AlertDraft } from "../../node/alerts/alert";
import { applyLogRules, emptyLogRulesState, type LogRulesState } from "../../node/alerts/log-rules";
import type { AccessLogEntry } from "../../node/log/entry";

const id = (s: string) => ethers.id(s);
const [TAX, WATER, CIVIL] = [id("cq.tax"), id("cq.water"), id("cq.civil")];
const [FEES, OTHER] = [id("agreement fees"), id("agreement other")];
const T = 1790784000; // a multiple of the one-hour window
const config = { ...DEFAULT_ALERT_CONFIG };

let n = 0;
function entry(over: Partial<AccessLogEntry> = {}): AccessLogEntry {
  n++;
  return {
    time: T, consumerDept: TAX, providerDept: WATER, resourceId: id("res"), agreementId: FEES, purposeHash: id("p"), recordCount: 1,
    requestHash: id(`q${n}`), responseHash: id(`r${n}`), subjectCommitment: null, outcome: "served", refusalReason: "", ...over,
  };
}
const refused = (reason: string, over: Partial<AccessLogEntry> = {}) => entry({ outcome: "refused", refusalReason: reason, recordCount: 0, ...over });

/** Folds `entries` from an empty state; the alerts raised with the index of the entry that raised each. */
function fold(entries: AccessLogEntry[], quotas: Record<string, bigint> = { [FEES]: 100n }, state: LogRulesState = emptyLogRulesState(), from = 0): (AlertDraft & { at: number })[] {
  return entries.flatMap((e, i) => applyLogRules(state, config, from + i, e, quotas[e.agreementId]).map((a) => ({ ...a, at: from + i })));
}

describe("alert log rules", function () {
  it("warns once when an agreement's served records reach 80 % of its quota, and once more when they reach all of it", () => {
    const alerts = fold([entry({ recordCount: 79 }), entry({ recordCount: 1 }), entry({ recordCount: 5 }), entry({ recordCount: 15 }), entry({ recordCount: 0 })]);
    expect(alerts.map((a) => [a.rule, a.at])).to.deep.equal([["quota_warning", 1], ["quota_exhausted", 3]]);
    expect(alerts[0]).to.deep.include({ key: `quota_warning:${FEES}`, department: WATER, agreementId: FEES, raisedAt: T });
    expect(alerts[0].evidence).to.deep.include({ index: 1, used: "80", quota: "100", consumer: TAX });
    expect(alerts[1].evidence).to.deep.include({ used: "100" });
  });

  it("raises quota_exhausted for a call refused beyond the quota, once per agreement; the 80 % warning still comes when the records reach it", () => {
    const alerts = fold([entry({ recordCount: 10 }), refused("QUOTA_EXCEEDED"), refused("QUOTA_EXCEEDED"), entry({ recordCount: 85 })]);
    expect(alerts.map((a) => [a.rule, a.at])).to.deep.equal([["quota_exhausted", 1], ["quota_warning", 3]]);
    expect(alerts[0].evidence).to.deep.include({ used: "10", quota: "100", refusalReason: "QUOTA_EXCEEDED" });
  });

  it("raises no quota alert when the agreement's quota is unknown", () => {
    expect(fold([entry({ recordCount: 1000 }), refused("QUOTA_EXCEEDED")], {}).filter((a) => a.rule === "quota_warning")).to.deep.equal([]);
  });

  it("raises refusal_rate above 20 % of at least 20 calls in a window: not at exactly 20 % (4 of 20), at 25 % (5 of 20), once", () => {
    const at20 = [...Array.from({ length: 16 }, () => entry()), ...Array.from({ length: 4 }, () => refused("PURPOSE_MISMATCH"))];
    expect(fold(at20).filter((a) => a.rule === "refusal_rate")).to.deep.equal([]); // 4 of 20 = 20 %
    const above = [...Array.from({ length: 15 }, () => entry()), ...Array.from({ length: 5 }, () => refused("PURPOSE_MISMATCH")), refused("PURPOSE_MISMATCH")];
    const rate = fold(above).filter((a) => a.rule === "refusal_rate");
    expect(rate.map((a) => a.at)).to.deep.equal([19]); // 5 of 20 = 25 %, raised once
    expect(rate[0].evidence).to.deep.include({ calls: 20, refused: 5, window: { from: T, to: T + 3600 } });
    expect(rate[0].key).to.equal(`refusal_rate:${TAX}:${T}`);
  });

  it("counts refusal_rate from the 20th call even when the refusals came first", () => {
    const early = [...Array.from({ length: 10 }, () => refused("PURPOSE_MISMATCH")), ...Array.from({ length: 10 }, () => entry())];
    expect(fold(early).filter((a) => a.rule === "refusal_rate").map((a) => a.at)).to.deep.equal([19]);
    expect(fold(early.slice(0, 19)).filter((a) => a.rule === "refusal_rate")).to.deep.equal([]);
  });

  it("starts the counts again in each window, and counts each department apart", () => {
    const a = Array.from({ length: 19 }, () => refused("PURPOSE_MISMATCH"));
    const b = [refused("PURPOSE_MISMATCH", { time: T + 3600 }), refused("PURPOSE_MISMATCH", { consumerDept: CIVIL, time: T + 3600 })];
    expect(fold([...a, ...b]).filter((x) => x.rule === "refusal_rate")).to.deep.equal([]);
  });

  it("raises consent_refusals at the third CONSENT_MISSING or SUBJECT_ERASED of a department in a window", () => {
    const alerts = fold([refused("CONSENT_MISSING"), refused("SUBJECT_ERASED"), entry(), refused("CONSENT_MISSING"), refused("CONSENT_MISSING")]).filter((a) => a.rule === "consent_refusals");
    expect(alerts.map((a) => a.at)).to.deep.equal([3]);
    expect(alerts[0]).to.deep.include({ severity: "critical", department: TAX });
    expect(fold([refused("CONSENT_MISSING"), refused("CONSENT_MISSING"), refused("CONSENT_MISSING", { time: T + 3600 })]).filter((a) => a.rule === "consent_refusals")).to.deep.equal([]);
  });

  it("raises outside_window for a call outside an agreement's window, once per agreement and window", () => {
    const alerts = fold([refused("AGREEMENT_EXPIRED"), refused("AGREEMENT_EXPIRED"), refused("AGREEMENT_NOT_YET_VALID", { agreementId: OTHER }), refused("AGREEMENT_EXPIRED", { time: T + 7200 })]);
    expect(alerts.filter((a) => a.rule === "outside_window").map((a) => [a.agreementId, a.at])).to.deep.equal([[FEES, 0], [OTHER, 2], [FEES, 3]]);
  });

  it("raises the same alerts when the log is folded in pieces with the state saved as JSON in between (fast-check)", () => {
    const arbEntry = fc.record({
      dt: fc.integer({ min: 0, max: 1500 }),
      consumer: fc.constantFrom(TAX, CIVIL),
      agreement: fc.constantFrom(FEES, OTHER),
      records: fc.integer({ min: 0, max: 30 }),
      reason: fc.option(fc.constantFrom("CONSENT_MISSING", "SUBJECT_ERASED", "QUOTA_EXCEEDED", "AGREEMENT_EXPIRED", "PURPOSE_MISMATCH"), { nil: null, freq: 2 }),
    });
    fc.assert(
      fc.property(fc.array(arbEntry, { minLength: 1, maxLength: 200 }), fc.array(fc.integer({ min: 1, max: 50 }), { minLength: 1, maxLength: 10 }), (specs, cuts) => {
        let t = T;
        const entries = specs.map((s) => {
          t += s.dt;
          return s.reason ? refused(s.reason, { time: t, consumerDept: s.consumer, agreementId: s.agreement }) : entry({ time: t, consumerDept: s.consumer, agreementId: s.agreement, recordCount: s.records });
        });
        const quotas = { [FEES]: 300n, [OTHER]: 150n };
        const once = fold(entries, quotas);
        const pieces: ReturnType<typeof fold> = [];
        let state = emptyLogRulesState();
        for (let i = 0, c = 0; i < entries.length; c++) {
          const end = Math.min(entries.length, i + cuts[c % cuts.length]);
          const s = JSON.parse(JSON.stringify(state)) as LogRulesState; // saved and read back, as the store does
          pieces.push(...fold(entries.slice(i, end), quotas, s, i));
          state = s;
          i = end;
        }
        expect(pieces).to.deep.equal(once);
        expect(new Set(once.map((a) => alertId(a.key))).size).to.equal(once.length); // each cause once
      }),
      { numRuns: 200 },
    );
  });
});

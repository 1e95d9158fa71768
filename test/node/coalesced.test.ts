/**
 * coalesced(): one run at a time; the calls made during a run share the next one, which starts only
 * after them; a failure is the failure of the callers it covered, not of later ones.
 */
import { expect } from "chai";
import { coalesced } from "../../node/runtime/coalesced";

const tick = () => new Promise((r) => setTimeout(r, 5));

describe("coalesced runs", () => {
  it("answers the calls made during a run with one run that starts after them", async () => {
    const started: number[] = [];
    let calls = 0;
    const release: (() => void)[] = [];
    const persist = coalesced(() => {
      started.push(calls);
      return new Promise<void>((r) => release.push(r));
    });
    const settled: string[] = [];
    calls = 1;
    const first = persist().then(() => settled.push("first"));
    calls = 6;
    const during = Array.from({ length: 5 }, (_, i) => persist().then(() => settled.push(`during ${i}`)));
    await tick();
    expect(started, "the second run waits for the first").to.deep.equal([1]);
    release[0]();
    await first;
    await tick();
    expect(settled).to.deep.equal(["first"]);
    expect(started, "one run for the five calls, started after all of them").to.deep.equal([1, 6]);
    release[1]();
    await Promise.all(during);
    expect(settled).to.have.length(6);
    expect(started).to.have.length(2);

    const later = persist(); // nothing under way: at once
    expect(started).to.have.length(3);
    release[2]();
    await later;
  });

  it("rejects the callers of a failed run only, and runs again for the next call", async () => {
    let fail = true;
    let runs = 0;
    const persist = coalesced(async () => {
      runs++;
      await tick();
      if (fail) throw new Error("disk full");
    });
    const a = persist();
    const b = persist(); // made during the first run: answered by the second
    await a.then(() => expect.fail("resolved"), (e: Error) => expect(e.message).to.equal("disk full"));
    fail = false;
    await b; // the second run started after the failure was cleared
    expect(runs).to.equal(2);
    await persist();
    expect(runs).to.equal(3);
  });
});

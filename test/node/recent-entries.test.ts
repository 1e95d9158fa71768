import { expect } from "chai";
import { RecentEntries } from "../../node/log/recent-entries";
import { sampleEntry } from "./entry-samples";

describe("RecentEntries", function () {
  const entries = (from: number, n: number) => Array.from({ length: n }, (_, i) => sampleEntry(from + i));

  it("holds one run of consecutive indices and answers ranges inside it", function () {
    const r = new RecentEntries(8);
    r.add(10, entries(10, 3));
    r.add(13, entries(13, 2));
    expect(r.range(10, 15)).to.deep.equal(entries(10, 5));
    expect(r.range(12, 14)).to.deep.equal(entries(12, 2));
    expect(r.range(12, 12)).to.deep.equal([]);
    expect(r.range(9, 12), "before the run").to.equal(undefined);
    expect(r.range(14, 16), "past the run").to.equal(undefined);
    expect(r.range(13, 12), "backwards").to.equal(undefined);
  });

  it("keeps the last `capacity` entries as the ring wraps", function () {
    const r = new RecentEntries(8);
    r.add(0, entries(0, 5));
    r.add(5, entries(5, 6)); // 11 in all: 3..10 held
    expect(r.range(2, 11)).to.equal(undefined);
    expect(r.range(3, 11)).to.deep.equal(entries(3, 8));
    r.add(11, entries(11, 20)); // more than the capacity at once: the last 8
    expect(r.range(23, 31)).to.deep.equal(entries(23, 8));
    expect(r.range(22, 31)).to.equal(undefined);
  });

  it("starts a new run when an addition does not continue the last (nothing across the gap)", function () {
    const r = new RecentEntries(8);
    r.add(0, entries(0, 4));
    r.add(6, entries(6, 2));
    expect(r.range(0, 4)).to.equal(undefined);
    expect(r.range(4, 8)).to.equal(undefined);
    expect(r.range(6, 8)).to.deep.equal(entries(6, 2));
    r.add(2, entries(2, 2)); // an earlier index: a new run again
    expect(r.range(6, 8)).to.equal(undefined);
    expect(r.range(2, 4)).to.deep.equal(entries(2, 2));
    expect(() => new RecentEntries(0)).to.throw(RangeError);
  });
});

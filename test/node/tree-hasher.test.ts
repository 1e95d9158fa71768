import { expect } from "chai";
import { randomBytes } from "node:crypto";
import { leafHash, nodeHash } from "../../node/log/tree-hasher";
import * as verify from "../../node/verify";

describe("the log's tree hasher (node:crypto)", function () {
  it("hashes leaves and nodes exactly as node/verify does, as plain Uint8Arrays", function () {
    for (const length of [0, 1, 31, 32, 64, 257, 1000]) {
      const bytes = randomBytes(length);
      expect(leafHash(bytes)).to.deep.equal(verify.leafHash(bytes));
      expect(Object.getPrototypeOf(leafHash(bytes))).to.equal(Uint8Array.prototype);
    }
    const [l, r] = [randomBytes(32), randomBytes(32)];
    expect(nodeHash(l, r)).to.deep.equal(verify.nodeHash(l, r));
    expect(nodeHash(l, r)).to.not.deep.equal(nodeHash(r, l));
  });
});

// DCL_RELAY_BUMP_AFTER_MS and DCL_RELAY_MAX_FEE_GWEI, read in the one configuration module.
import { expect } from "chai";
import { loadConfig } from "../../api/config";

describe("relay fee configuration (DCL_RELAY_BUMP_AFTER_MS, DCL_RELAY_MAX_FEE_GWEI)", () => {
  it("replaces a passed-over transaction after two minutes, with no fee limit, by default", () => {
    const c = loadConfig({});
    expect(c.relayBumpAfterMs).to.equal(120_000);
    expect(c.relayMaxFeePerGas).to.equal(undefined);
  });

  it("reads the limit in gwei, decimals included, as wei", () => {
    expect(loadConfig({ DCL_RELAY_MAX_FEE_GWEI: "250" }).relayMaxFeePerGas).to.equal(250_000_000_000n);
    expect(loadConfig({ DCL_RELAY_MAX_FEE_GWEI: "0.000000001" }).relayMaxFeePerGas).to.equal(1n);
    expect(loadConfig({ DCL_RELAY_BUMP_AFTER_MS: "0" }).relayBumpAfterMs).to.equal(0);
  });

  it("refuses what is not a decimal number of gwei, or a negative wait, naming the variable", () => {
    for (const gwei of ["-1", "1e9", "0x10", "1.0000000001", "abc", " 5"]) {
      expect(() => loadConfig({ DCL_RELAY_MAX_FEE_GWEI: gwei }), gwei).to.throw(/DCL_RELAY_MAX_FEE_GWEI/);
    }
    expect(() => loadConfig({ DCL_RELAY_BUMP_AFTER_MS: "-5" })).to.throw(/DCL_RELAY_BUMP_AFTER_MS/);
  });
});

// DCL_PEERS and DCL_PEER_POLL_MS, read in the one configuration module.
import { expect } from "chai";
import { loadConfig } from "../../api/config";

describe("peer configuration (DCL_PEERS)", () => {
  it("watches no peer by default", () => {
    expect(loadConfig({}).peers).to.deep.equal([]);
    expect(loadConfig({}).peerPollMs).to.equal(10_000);
  });

  it("reads comma-separated peer API URLs, trimmed, without trailing slashes or empty items", () => {
    const c = loadConfig({ DCL_PEERS: " http://127.0.0.1:8081/ ,https://dcl.water.internal,, ", DCL_PEER_POLL_MS: "250" });
    expect(c.peers).to.deep.equal(["http://127.0.0.1:8081", "https://dcl.water.internal"]);
    expect(c.peerPollMs).to.equal(250);
  });

  it("refuses what is not an http(s) URL of an API, a peer named twice, and a poll interval under 100 ms, naming the variable", () => {
    for (const peers of ["ftp://dcl.water.internal", "dcl.water.internal", "http://a.example/?x=1", "http://a.example,http://a.example/"]) {
      expect(() => loadConfig({ DCL_PEERS: peers }), peers).to.throw(/DCL_PEERS/);
    }
    expect(() => loadConfig({ DCL_PEER_POLL_MS: "50" })).to.throw(/DCL_PEER_POLL_MS/);
  });
});

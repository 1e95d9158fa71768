import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { createHash } from "node:crypto";
import { deployedWithDepartments, DEPT, LOG_ID } from "./fixture";
import { codeId, ROLES } from "../../node/chain/ids";

// A tiny RFC 6962 §2.1 reference tree (MTH and PATH, recursive, all in memory) to build real proofs.
const sha256 = (...parts: Uint8Array[]): Buffer => createHash("sha256").update(Buffer.concat(parts)).digest();
const leafHashOf = (data: Uint8Array): Buffer => sha256(Buffer.from([0x00]), data);
const nodeHashOf = (left: Buffer, right: Buffer): Buffer => sha256(Buffer.from([0x01]), left, right);
const splitPoint = (n: number): number => {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
};
/** MTH over `leaves` (leaf hashes; at least one). */
function treeRoot(leaves: Buffer[]): Buffer {
  if (leaves.length === 1) return leaves[0];
  const k = splitPoint(leaves.length);
  return nodeHashOf(treeRoot(leaves.slice(0, k)), treeRoot(leaves.slice(k)));
}
/** PATH(m, leaves): the inclusion proof of leaf `m`. */
function inclusionPath(m: number, leaves: Buffer[]): Buffer[] {
  if (leaves.length <= 1) return [];
  const k = splitPoint(leaves.length);
  return m < k
    ? [...inclusionPath(m, leaves.slice(0, k)), treeRoot(leaves.slice(k))]
    : [...inclusionPath(m - k, leaves.slice(k)), treeRoot(leaves.slice(0, k))];
}
const hex = (b: Buffer): string => "0x" + b.toString("hex");

const OTHER_LOG = codeId("log.cq.yuzhong.0");
const ROOT_A = ethers.id("root a");
const ROOT_B = ethers.id("root b");

describe("LogAnchors", () => {
  describe("registerLog", () => {
    it("lets the governor register a log to its operating department", async () => {
      const { anchors, a } = await loadFixture(deployedWithDepartments);
      await expect(anchors.connect(a.governor).registerLog(OTHER_LOG, DEPT.yuzhong))
        .to.emit(anchors, "LogRegistered")
        .withArgs(OTHER_LOG, DEPT.yuzhong);
      expect(await anchors.operatorOf(OTHER_LOG)).to.equal(DEPT.yuzhong);
      expect(await anchors.operatorOf(LOG_ID)).to.equal(DEPT.bigdata);
    });

    it("refuses anyone without the governor role", async () => {
      const { anchors, a } = await loadFixture(deployedWithDepartments);
      for (const caller of [a.stranger, a.yuzhong, a.regulator, a.deployer]) {
        await expect(anchors.connect(caller).registerLog(OTHER_LOG, DEPT.yuzhong))
          .to.be.revertedWithCustomError(anchors, "DclMissingRole")
          .withArgs(ROLES.governor, caller.address);
      }
    });

    it("refuses the zero log id", async () => {
      const { anchors, a } = await loadFixture(deployedWithDepartments);
      await expect(anchors.connect(a.governor).registerLog(ethers.ZeroHash, DEPT.yuzhong))
        .to.be.revertedWithCustomError(anchors, "AnchorsInvalidLogId")
        .withArgs(ethers.ZeroHash);
    });

    it("refuses a log id already registered", async () => {
      const { anchors, a } = await loadFixture(deployedWithDepartments);
      await expect(anchors.connect(a.governor).registerLog(LOG_ID, DEPT.yuzhong))
        .to.be.revertedWithCustomError(anchors, "AnchorsInvalidLogId")
        .withArgs(LOG_ID);
      expect(await anchors.operatorOf(LOG_ID)).to.equal(DEPT.bigdata);
    });

    it("refuses an operator that is not a registered department", async () => {
      const { anchors, a } = await loadFixture(deployedWithDepartments);
      const unknown = codeId("cq.nowhere");
      await expect(anchors.connect(a.governor).registerLog(OTHER_LOG, unknown))
        .to.be.revertedWithCustomError(anchors, "AnchorsUnknownOperator")
        .withArgs(unknown);
    });

    it("refuses operatorOf an unknown log", async () => {
      const { anchors } = await loadFixture(deployedWithDepartments);
      await expect(anchors.operatorOf(OTHER_LOG)).to.be.revertedWithCustomError(anchors, "AnchorsUnknownLog").withArgs(OTHER_LOG);
    });
  });

  describe("anchor", () => {
    it("lets a signer of the operator anchor a checkpoint, stamped with the block's time and number", async () => {
      const { anchors, a } = await loadFixture(deployedWithDepartments);
      const op = anchors.connect(a.bigdata);
      expect(await op.anchor.staticCall(LOG_ID, 3n, ROOT_A)).to.equal(0n);
      const tx = await op.anchor(LOG_ID, 3n, ROOT_A);
      await expect(tx).to.emit(anchors, "CheckpointAnchored").withArgs(LOG_ID, 0n, 3n, ROOT_A);
      const block = (await ethers.provider.getBlock((await tx.wait())!.blockNumber))!;
      const c = await anchors.checkpointAt(LOG_ID, 0n);
      expect(c.treeSize).to.equal(3n);
      expect(c.root).to.equal(ROOT_A);
      expect(c.timestamp).to.equal(BigInt(block.timestamp));
      expect(c.blockNumber).to.equal(BigInt(block.number));
      expect(await op.anchor.staticCall(LOG_ID, 4n, ROOT_B)).to.equal(1n);
    });

    it("refuses a stranger", async () => {
      const { anchors, a } = await loadFixture(deployedWithDepartments);
      await expect(anchors.connect(a.stranger).anchor(LOG_ID, 1n, ROOT_A))
        .to.be.revertedWithCustomError(anchors, "DclNotDepartmentSigner")
        .withArgs(DEPT.bigdata, a.stranger.address);
    });

    it("refuses a signer of another department, even a child of the operator, or the governor", async () => {
      const { anchors, a } = await loadFixture(deployedWithDepartments);
      for (const caller of [a.water, a.yuzhong, a.governor]) {
        await expect(anchors.connect(caller).anchor(LOG_ID, 1n, ROOT_A))
          .to.be.revertedWithCustomError(anchors, "DclNotDepartmentSigner")
          .withArgs(DEPT.bigdata, caller.address);
      }
      expect(await anchors.checkpointCount(LOG_ID)).to.equal(0n);
    });

    it("refuses a key removed from the operator", async () => {
      const { anchors, registry, a } = await loadFixture(deployedWithDepartments);
      await registry.connect(a.bigdata).addSigner(DEPT.bigdata, a.stranger.address);
      await anchors.connect(a.stranger).anchor(LOG_ID, 1n, ROOT_A);
      await registry.connect(a.bigdata).removeSigner(DEPT.bigdata, a.stranger.address);
      await expect(anchors.connect(a.stranger).anchor(LOG_ID, 2n, ROOT_B))
        .to.be.revertedWithCustomError(anchors, "DclNotDepartmentSigner")
        .withArgs(DEPT.bigdata, a.stranger.address);
    });

    it("refuses a signer of an inactive operator", async () => {
      const { anchors, registry, a } = await loadFixture(deployedWithDepartments);
      await registry.connect(a.governor).setDepartmentActive(DEPT.bigdata, false);
      await expect(anchors.connect(a.bigdata).anchor(LOG_ID, 1n, ROOT_A))
        .to.be.revertedWithCustomError(anchors, "DclNotDepartmentSigner")
        .withArgs(DEPT.bigdata, a.bigdata.address);
    });

    it("refuses an unknown log", async () => {
      const { anchors, a } = await loadFixture(deployedWithDepartments);
      await expect(anchors.connect(a.bigdata).anchor(OTHER_LOG, 1n, ROOT_A))
        .to.be.revertedWithCustomError(anchors, "AnchorsUnknownLog")
        .withArgs(OTHER_LOG);
    });

    it("refuses an empty first checkpoint", async () => {
      const { anchors, a } = await loadFixture(deployedWithDepartments);
      await expect(anchors.connect(a.bigdata).anchor(LOG_ID, 0n, ROOT_A))
        .to.be.revertedWithCustomError(anchors, "AnchorsSizeNotGrowing")
        .withArgs(LOG_ID, 0n, 0n);
    });

    it("refuses a checkpoint that does not strictly grow the tree", async () => {
      const { anchors, a } = await loadFixture(deployedWithDepartments);
      const op = anchors.connect(a.bigdata);
      await op.anchor(LOG_ID, 5n, ROOT_A);
      await expect(op.anchor(LOG_ID, 5n, ROOT_B)).to.be.revertedWithCustomError(anchors, "AnchorsSizeNotGrowing").withArgs(LOG_ID, 5n, 5n);
      await expect(op.anchor(LOG_ID, 4n, ROOT_B)).to.be.revertedWithCustomError(anchors, "AnchorsSizeNotGrowing").withArgs(LOG_ID, 4n, 5n);
      await op.anchor(LOG_ID, 6n, ROOT_B);
      expect(await anchors.checkpointCount(LOG_ID)).to.equal(2n);
    });
  });

  describe("history", () => {
    it("starts empty: no checkpoints and a zero latest checkpoint", async () => {
      const { anchors } = await loadFixture(deployedWithDepartments);
      expect(await anchors.checkpointCount(LOG_ID)).to.equal(0n);
      const latest = await anchors.latestCheckpoint(LOG_ID);
      expect(latest.treeSize).to.equal(0n);
      expect(latest.timestamp).to.equal(0n);
      expect(latest.blockNumber).to.equal(0n);
      expect(latest.root).to.equal(ethers.ZeroHash);
    });

    it("keeps every checkpoint in order, per log", async () => {
      const { anchors, a } = await loadFixture(deployedWithDepartments);
      await anchors.connect(a.governor).registerLog(OTHER_LOG, DEPT.yuzhong);
      await anchors.connect(a.bigdata).anchor(LOG_ID, 2n, ROOT_A);
      await anchors.connect(a.yuzhong).anchor(OTHER_LOG, 1n, ROOT_B);
      await anchors.connect(a.bigdata).anchor(LOG_ID, 7n, ROOT_B);

      expect(await anchors.checkpointCount(LOG_ID)).to.equal(2n);
      expect(await anchors.checkpointCount(OTHER_LOG)).to.equal(1n);
      const first = await anchors.checkpointAt(LOG_ID, 0n);
      const second = await anchors.checkpointAt(LOG_ID, 1n);
      expect([first.treeSize, first.root]).to.deep.equal([2n, ROOT_A]);
      expect([second.treeSize, second.root]).to.deep.equal([7n, ROOT_B]);
      expect(second.blockNumber).to.be.greaterThan(first.blockNumber);
      const latest = await anchors.latestCheckpoint(LOG_ID);
      expect([latest.treeSize, latest.root, latest.blockNumber]).to.deep.equal([7n, ROOT_B, second.blockNumber]);
      expect((await anchors.latestCheckpoint(OTHER_LOG)).treeSize).to.equal(1n);
    });

    it("refuses a checkpoint index beyond the history", async () => {
      const { anchors, a } = await loadFixture(deployedWithDepartments);
      await expect(anchors.checkpointAt(LOG_ID, 0n)).to.be.revertedWithCustomError(anchors, "AnchorsUnknownCheckpoint").withArgs(LOG_ID, 0n);
      await anchors.connect(a.bigdata).anchor(LOG_ID, 1n, ROOT_A);
      await expect(anchors.checkpointAt(LOG_ID, 1n)).to.be.revertedWithCustomError(anchors, "AnchorsUnknownCheckpoint").withArgs(LOG_ID, 1n);
      await expect(anchors.checkpointAt(OTHER_LOG, 0n)).to.be.revertedWithCustomError(anchors, "AnchorsUnknownCheckpoint").withArgs(OTHER_LOG, 0n);
    });
  });

  describe("verifyInclusion", () => {
    const LEAVES = Array.from({ length: 11 }, (_, i) => leafHashOf(Buffer.from(`entry ${i}`)));

    /** The fixture with checkpoints of the first 1, 2, …, 11 entries anchored as indexes 0 … 10. */
    async function withGrowingLog() {
      const d = await deployedWithDepartments();
      for (let n = 1; n <= LEAVES.length; n++) {
        await d.anchors.connect(d.a.bigdata).anchor(LOG_ID, BigInt(n), hex(treeRoot(LEAVES.slice(0, n))));
      }
      return d;
    }

    it("accepts the proof of every entry in every anchored checkpoint", async () => {
      const { anchors } = await loadFixture(withGrowingLog);
      for (let n = 1; n <= LEAVES.length; n++) {
        const tree = LEAVES.slice(0, n);
        for (let m = 0; m < n; m++) {
          const proof = inclusionPath(m, tree).map(hex);
          expect(await anchors.verifyInclusion(LOG_ID, n - 1, m, hex(tree[m]), proof), `entry ${m} of ${n}`).to.equal(true);
        }
      }
    });

    it("rejects a wrong leaf, index, proof element or proof length", async () => {
      const { anchors } = await loadFixture(withGrowingLog);
      const n = 11;
      const m = 6;
      const tree = LEAVES.slice(0, n);
      const proof = inclusionPath(m, tree).map(hex);
      const checkpoint = n - 1;
      expect(await anchors.verifyInclusion(LOG_ID, checkpoint, m, hex(tree[m]), proof)).to.equal(true);

      expect(await anchors.verifyInclusion(LOG_ID, checkpoint, m, hex(tree[m + 1]), proof), "wrong leaf").to.equal(false);
      expect(await anchors.verifyInclusion(LOG_ID, checkpoint, m, hex(leafHashOf(Buffer.from("entry 99"))), proof), "foreign leaf").to.equal(false);
      expect(await anchors.verifyInclusion(LOG_ID, checkpoint, m + 1, hex(tree[m]), proof), "wrong index").to.equal(false);
      expect(await anchors.verifyInclusion(LOG_ID, checkpoint, m - 1, hex(tree[m]), proof), "wrong index").to.equal(false);
      expect(await anchors.verifyInclusion(LOG_ID, checkpoint, n, hex(tree[m]), proof), "index beyond the tree").to.equal(false);
      for (let i = 0; i < proof.length; i++) {
        const bad = [...proof];
        bad[i] = ethers.id(`tampered ${i}`);
        expect(await anchors.verifyInclusion(LOG_ID, checkpoint, m, hex(tree[m]), bad), `tampered proof[${i}]`).to.equal(false);
      }
      expect(await anchors.verifyInclusion(LOG_ID, checkpoint, m, hex(tree[m]), proof.slice(0, -1)), "truncated proof").to.equal(false);
      expect(await anchors.verifyInclusion(LOG_ID, checkpoint, m, hex(tree[m]), [...proof, ROOT_A]), "extended proof").to.equal(false);
      expect(await anchors.verifyInclusion(LOG_ID, checkpoint, m, hex(tree[m]), [...proof].reverse()), "reordered proof").to.equal(false);
    });

    it("rejects a proof checked against another checkpoint", async () => {
      const { anchors } = await loadFixture(withGrowingLog);
      const proof = inclusionPath(2, LEAVES.slice(0, 7)).map(hex);
      expect(await anchors.verifyInclusion(LOG_ID, 6, 2, hex(LEAVES[2]), proof)).to.equal(true);
      expect(await anchors.verifyInclusion(LOG_ID, 7, 2, hex(LEAVES[2]), proof)).to.equal(false);
      expect(await anchors.verifyInclusion(LOG_ID, 5, 2, hex(LEAVES[2]), proof)).to.equal(false);
    });

    it("refuses a checkpoint that was never anchored", async () => {
      const { anchors } = await loadFixture(withGrowingLog);
      await expect(anchors.verifyInclusion(LOG_ID, LEAVES.length, 0, hex(LEAVES[0]), []))
        .to.be.revertedWithCustomError(anchors, "AnchorsUnknownCheckpoint")
        .withArgs(LOG_ID, LEAVES.length);
    });
  });
});

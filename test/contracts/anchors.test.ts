import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { createHash } from "node:crypto";
import { deployedWithDepartments, DEPT, LOG_ID } from "./fixture";
import { codeId, ROLES } from "../../node/chain/ids";
import fc from "fast-check";
import { time } from "@nomicfoundation/hardhat-network-helpers";
import { referenceConsistencyProof } from "../node/reference-tree";
import { UniformTree } from "./uniform-tree";

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
/** A real log to anchor: its first n leaves' root, and the consistency proof from m to n. */
const LOG = Array.from({ length: 64 }, (_, i) => leafHashOf(Buffer.from(`log entry ${i}`)));
const rootOf = (n: number, leaves: Buffer[] = LOG) => hex(treeRoot(leaves.slice(0, n)));
const proofOf = (m: number, n: number, leaves: Buffer[] = LOG) => referenceConsistencyProof(m, leaves.slice(0, n)).map((h) => hex(Buffer.from(h)));

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
      expect(await op.anchor.staticCall(LOG_ID, 3n, rootOf(3), [])).to.equal(0n);
      const tx = await op.anchor(LOG_ID, 3n, rootOf(3), []);
      await expect(tx).to.emit(anchors, "CheckpointAnchored").withArgs(LOG_ID, 0n, 3n, rootOf(3));
      const block = (await ethers.provider.getBlock((await tx.wait())!.blockNumber))!;
      const c = await anchors.checkpointAt(LOG_ID, 0n);
      expect(c.treeSize).to.equal(3n);
      expect(c.root).to.equal(rootOf(3));
      expect(c.timestamp).to.equal(BigInt(block.timestamp));
      expect(c.blockNumber).to.equal(BigInt(block.number));
      expect(await op.anchor.staticCall(LOG_ID, 4n, rootOf(4), proofOf(3, 4))).to.equal(1n);
    });

    it("refuses a stranger", async () => {
      const { anchors, a } = await loadFixture(deployedWithDepartments);
      await expect(anchors.connect(a.stranger).anchor(LOG_ID, 1n, ROOT_A, []))
        .to.be.revertedWithCustomError(anchors, "DclNotDepartmentSigner")
        .withArgs(DEPT.bigdata, a.stranger.address);
    });

    it("refuses a signer of another department, even a child of the operator, or the governor", async () => {
      const { anchors, a } = await loadFixture(deployedWithDepartments);
      for (const caller of [a.water, a.yuzhong, a.governor]) {
        await expect(anchors.connect(caller).anchor(LOG_ID, 1n, ROOT_A, []))
          .to.be.revertedWithCustomError(anchors, "DclNotDepartmentSigner")
          .withArgs(DEPT.bigdata, caller.address);
      }
      expect(await anchors.checkpointCount(LOG_ID)).to.equal(0n);
    });

    it("refuses a key removed from the operator", async () => {
      const { anchors, registry, a } = await loadFixture(deployedWithDepartments);
      await registry.connect(a.bigdata).addSigner(DEPT.bigdata, a.stranger.address);
      await anchors.connect(a.stranger).anchor(LOG_ID, 1n, rootOf(1), []);
      await registry.connect(a.bigdata).removeSigner(DEPT.bigdata, a.stranger.address);
      await expect(anchors.connect(a.stranger).anchor(LOG_ID, 2n, rootOf(2), proofOf(1, 2)))
        .to.be.revertedWithCustomError(anchors, "DclNotDepartmentSigner")
        .withArgs(DEPT.bigdata, a.stranger.address);
    });

    it("refuses a signer of an inactive operator", async () => {
      const { anchors, registry, a } = await loadFixture(deployedWithDepartments);
      await registry.connect(a.governor).setDepartmentActive(DEPT.bigdata, false);
      await expect(anchors.connect(a.bigdata).anchor(LOG_ID, 1n, ROOT_A, []))
        .to.be.revertedWithCustomError(anchors, "DclNotDepartmentSigner")
        .withArgs(DEPT.bigdata, a.bigdata.address);
    });

    it("refuses an unknown log", async () => {
      const { anchors, a } = await loadFixture(deployedWithDepartments);
      await expect(anchors.connect(a.bigdata).anchor(OTHER_LOG, 1n, ROOT_A, []))
        .to.be.revertedWithCustomError(anchors, "AnchorsUnknownLog")
        .withArgs(OTHER_LOG);
    });

    it("refuses an empty first checkpoint", async () => {
      const { anchors, a } = await loadFixture(deployedWithDepartments);
      await expect(anchors.connect(a.bigdata).anchor(LOG_ID, 0n, ROOT_A, []))
        .to.be.revertedWithCustomError(anchors, "AnchorsSizeNotGrowing")
        .withArgs(LOG_ID, 0n, 0n);
    });

    it("refuses a checkpoint that does not strictly grow the tree", async () => {
      const { anchors, a } = await loadFixture(deployedWithDepartments);
      const op = anchors.connect(a.bigdata);
      await op.anchor(LOG_ID, 5n, rootOf(5), []);
      await expect(op.anchor(LOG_ID, 5n, rootOf(5), [])).to.be.revertedWithCustomError(anchors, "AnchorsSizeNotGrowing").withArgs(LOG_ID, 5n, 5n);
      await expect(op.anchor(LOG_ID, 4n, rootOf(4), [])).to.be.revertedWithCustomError(anchors, "AnchorsSizeNotGrowing").withArgs(LOG_ID, 4n, 5n);
      await op.anchor(LOG_ID, 6n, rootOf(6), proofOf(5, 6));
      expect(await anchors.checkpointCount(LOG_ID)).to.equal(2n);
    });
  });

  describe("anchors that cannot fork (consistency proofs verified on chain)", () => {
    it("refuses a proof with a log's first checkpoint", async () => {
      const { anchors, a } = await loadFixture(deployedWithDepartments);
      await expect(anchors.connect(a.bigdata).anchor(LOG_ID, 2n, rootOf(2), proofOf(1, 2)))
        .to.be.revertedWithCustomError(anchors, "AnchorsUnexpectedProof").withArgs(LOG_ID);
    });

    it("accepts honest extensions, one after another, with their proofs", async () => {
      const { anchors, a } = await loadFixture(deployedWithDepartments);
      const op = anchors.connect(a.bigdata);
      const sizes = [1, 2, 3, 4, 8, 13, 16, 17, 31, 64];
      await op.anchor(LOG_ID, 1n, rootOf(1), []);
      for (let i = 1; i < sizes.length; i++) await op.anchor(LOG_ID, BigInt(sizes[i]), rootOf(sizes[i]), proofOf(sizes[i - 1], sizes[i]));
      expect(await anchors.checkpointCount(LOG_ID)).to.equal(BigInt(sizes.length));
      expect((await anchors.latestCheckpoint(LOG_ID)).root).to.equal(rootOf(64));
    });

    it("refuses a fork: a changed entry, a truncated or reordered proof, a wrong root (closes 'anchored fork')", async () => {
      const { anchors, a } = await loadFixture(deployedWithDepartments);
      const op = anchors.connect(a.bigdata);
      await op.anchor(LOG_ID, 13n, rootOf(13), []);
      const forked = [...LOG];
      forked[5] = leafHashOf(Buffer.from("rewritten entry 5"));
      const attempts: [string, string, string[]][] = [
        ["a changed entry before the anchored size", rootOf(20, forked), proofOf(13, 20, forked)],
        ["the honest root with the forked proof", rootOf(20), proofOf(13, 20, forked)],
        ["a truncated proof", rootOf(20), proofOf(13, 20).slice(0, -1)],
        ["an extended proof", rootOf(20), [...proofOf(13, 20), ROOT_A]],
        ["a reordered proof", rootOf(20), [...proofOf(13, 20)].reverse()],
        ["no proof", rootOf(20), []],
        ["a root of another size", rootOf(21), proofOf(13, 20)],
      ];
      for (const [what, root, proof] of attempts) {
        await expect(op.anchor(LOG_ID, 20n, root, proof), what).to.be.revertedWithCustomError(anchors, "AnchorsNotConsistent").withArgs(LOG_ID, 13n, 20n);
      }
      await op.anchor(LOG_ID, 20n, rootOf(20), proofOf(13, 20));
    });

    it("property: every honest extension is accepted, every changed, truncated or reordered one refused", async () => {
      const base = await loadFixture(deployedWithDepartments);
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 1, max: 63 }).chain((m) => fc.tuple(fc.constant(m), fc.integer({ min: m + 1, max: 64 }))),
          fc.constantFrom("honest", "changed-old", "changed-new", "truncated", "reordered", "swapped-root"),
          fc.nat(),
          async ([m, n], kind, pick) => {
            const { anchors, a } = await loadFixture(deployedWithDepartments);
            expect(await anchors.getAddress()).to.equal(await base.anchors.getAddress());
            const op = anchors.connect(a.bigdata);
            await op.anchor(LOG_ID, BigInt(m), rootOf(m), []);
            let root = rootOf(n);
            let proof = proofOf(m, n);
            if (kind === "changed-old" || kind === "changed-new") {
              const changed = [...LOG];
              const at = kind === "changed-old" ? pick % m : m + (pick % (n - m));
              changed[at] = leafHashOf(Buffer.from(`changed ${at}`));
              root = rootOf(n, changed);
              proof = proofOf(m, n, changed);
              if (kind === "changed-new") {
                // Changing an entry the anchored tree does not cover is an honest (other) extension.
                await op.anchor(LOG_ID, BigInt(n), root, proof);
                return;
              }
            } else if (kind === "truncated") {
              if (proof.length === 0) return;
              proof = proof.slice(0, pick % proof.length);
            } else if (kind === "reordered") {
              if (new Set(proof).size < 2) return;
              const i = pick % proof.length;
              const j = (i + 1) % proof.length;
              [proof[i], proof[j]] = [proof[j], proof[i]];
            } else if (kind === "swapped-root") {
              root = rootOf(n - 1 > m ? n - 1 : n, [...LOG].reverse());
            }
            const tx = op.anchor(LOG_ID, BigInt(n), root, proof);
            if (kind === "honest") await tx;
            else await expect(tx, `${kind} ${m}→${n}`).to.be.revertedWithCustomError(anchors, "AnchorsNotConsistent");
          },
        ),
        { numRuns: 60 },
      );
    });
  });

  describe("growth bound and retirement (closes 'one key bricks a log')", () => {
    it("refuses a tree that grows faster than MAX_GROWTH_PER_SECOND, and allows more as time passes", async () => {
      const { anchors, a } = await loadFixture(deployedWithDepartments);
      // A log registered now: the bound counts from its registration, and the shared fixture's log was
      // registered when the fixture was first made, an unknown number of wall-clock seconds ago.
      const FRESH = ethers.id("log.cq.bigdata.growth-bound");
      await anchors.connect(a.governor).registerLog(FRESH, DEPT.bigdata);
      const op = anchors.connect(a.bigdata);
      const rate = await anchors.MAX_GROWTH_PER_SECOND();
      const max = 2n ** 64n - 1n;
      await expect(op.anchor(FRESH, max, ROOT_A, [])).to.be.revertedWithCustomError(anchors, "AnchorsGrowthTooFast");
      const uniform = new UniformTree(leafHashOf(Buffer.from("same")));
      const registered = (await anchors.queryFilter(anchors.filters.LogRegistered(FRESH)))[0];
      const since = BigInt((await registered.getBlock()).timestamp);
      await time.setNextBlockTimestamp(since + 9n);
      // At since + 9 the bound is 10 seconds' worth.
      await expect(op.anchor(FRESH, rate * 10n + 1n, ROOT_A, []))
        .to.be.revertedWithCustomError(anchors, "AnchorsGrowthTooFast").withArgs(FRESH, rate * 10n + 1n, rate * 10n);
      await time.setNextBlockTimestamp(since + 10n);
      await op.anchor(FRESH, rate * 11n, hex(uniform.root(Number(rate * 11n))), []);
      const next = rate * 11n + rate * 2n;
      await time.setNextBlockTimestamp(since + 11n);
      await expect(op.anchor(FRESH, next + 1n, ROOT_A, [])).to.be.revertedWithCustomError(anchors, "AnchorsGrowthTooFast").withArgs(FRESH, next + 1n, next);
      await time.setNextBlockTimestamp(since + 12n);
      await op.anchor(FRESH, next, hex(uniform.root(Number(next))), uniform.consistency(Number(rate * 11n), Number(next)).map(hex));
    });

    it("lets the governor retire a log: no more checkpoints, history kept, a new log takes over", async () => {
      const { anchors, a } = await loadFixture(deployedWithDepartments);
      await anchors.connect(a.bigdata).anchor(LOG_ID, 3n, rootOf(3), []);
      await expect(anchors.connect(a.bigdata).retireLog(LOG_ID, ROOT_B)).to.be.revertedWithCustomError(anchors, "DclMissingRole").withArgs(ROLES.governor, a.bigdata.address);
      await expect(anchors.connect(a.governor).retireLog(OTHER_LOG, ROOT_B)).to.be.revertedWithCustomError(anchors, "AnchorsUnknownLog").withArgs(OTHER_LOG);
      expect(await anchors.isRetired(LOG_ID)).to.equal(false);
      await expect(anchors.connect(a.governor).retireLog(LOG_ID, ROOT_B)).to.emit(anchors, "LogRetired").withArgs(LOG_ID, ROOT_B, a.governor.address);
      expect(await anchors.isRetired(LOG_ID)).to.equal(true);
      await expect(anchors.connect(a.governor).retireLog(LOG_ID, ROOT_B)).to.be.revertedWithCustomError(anchors, "AnchorsLogRetired").withArgs(LOG_ID);
      await expect(anchors.connect(a.bigdata).anchor(LOG_ID, 4n, rootOf(4), proofOf(3, 4))).to.be.revertedWithCustomError(anchors, "AnchorsLogRetired").withArgs(LOG_ID);
      expect((await anchors.latestCheckpoint(LOG_ID)).treeSize).to.equal(3n);
      const replacement = codeId("log.cq.bigdata.1");
      await anchors.connect(a.governor).registerLog(replacement, DEPT.bigdata);
      await anchors.connect(a.bigdata).anchor(replacement, 1n, rootOf(1), []);
      expect(await anchors.checkpointCount(replacement)).to.equal(1n);
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
      await anchors.connect(a.bigdata).anchor(LOG_ID, 2n, rootOf(2), []);
      await anchors.connect(a.yuzhong).anchor(OTHER_LOG, 1n, ROOT_B, []);
      await anchors.connect(a.bigdata).anchor(LOG_ID, 7n, rootOf(7), proofOf(2, 7));

      expect(await anchors.checkpointCount(LOG_ID)).to.equal(2n);
      expect(await anchors.checkpointCount(OTHER_LOG)).to.equal(1n);
      const first = await anchors.checkpointAt(LOG_ID, 0n);
      const second = await anchors.checkpointAt(LOG_ID, 1n);
      expect([first.treeSize, first.root]).to.deep.equal([2n, rootOf(2)]);
      expect([second.treeSize, second.root]).to.deep.equal([7n, rootOf(7)]);
      expect(second.blockNumber).to.be.greaterThan(first.blockNumber);
      const latest = await anchors.latestCheckpoint(LOG_ID);
      expect([latest.treeSize, latest.root, latest.blockNumber]).to.deep.equal([7n, rootOf(7), second.blockNumber]);
      expect((await anchors.latestCheckpoint(OTHER_LOG)).treeSize).to.equal(1n);
    });

    it("refuses a checkpoint index beyond the history", async () => {
      const { anchors, a } = await loadFixture(deployedWithDepartments);
      await expect(anchors.checkpointAt(LOG_ID, 0n)).to.be.revertedWithCustomError(anchors, "AnchorsUnknownCheckpoint").withArgs(LOG_ID, 0n);
      await anchors.connect(a.bigdata).anchor(LOG_ID, 1n, ROOT_A, []);
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
        await d.anchors.connect(d.a.bigdata).anchor(LOG_ID, BigInt(n), hex(treeRoot(LEAVES.slice(0, n))), n === 1 ? [] : proofOf(n - 1, n, LEAVES));
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

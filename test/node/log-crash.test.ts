import { expect } from "chai";
import { spawn } from "child_process";
import * as path from "path";
import * as readline from "readline";
import { MerkleLog } from "../../node/log/merkle-log";
import { leafHash, toHex, verifyConsistency, verifyInclusion } from "../../node/verify";
import { removeDir, tempDir } from "./log-helpers";

const WRITER = path.resolve(__dirname, "../fixtures/log-writer.ts");
const ROUNDS = 6;

interface Round {
  acks: [number, string][];
  stderr: string;
}

/** Starts the writer on `dir`, lets it acknowledge `acksBeforeKill` appends, then SIGKILLs it mid-load. */
function runWriterUntilKilled(dir: string, acksBeforeKill: number): Promise<Round> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["-r", require.resolve("ts-node/register"), WRITER, dir], {
      env: { ...process.env, TS_NODE_TRANSPILE_ONLY: "true" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const round: Round = { acks: [], stderr: "" };
    let killed = false;
    child.stderr.on("data", (d) => (round.stderr += d));
    readline.createInterface({ input: child.stdout }).on("line", (line) => {
      const [kind, index, hash] = line.split(" ");
      if (kind !== "ack") return;
      round.acks.push([Number(index), hash]);
      if (!killed && round.acks.length >= acksBeforeKill) {
        killed = true;
        // A random moment a little later, while the writer is mid-batch or between batches.
        setTimeout(() => child.kill("SIGKILL"), Math.floor(Math.random() * 30));
      }
    });
    child.on("error", reject);
    child.on("close", (code, signal) => {
      if (signal === "SIGKILL") resolve(round);
      else reject(new Error(`writer exited by itself (code ${code}, signal ${signal}): ${round.stderr}`));
    });
  });
}

describe("MerkleLog crash safety (kill -9)", function () {
  let dir: string;

  beforeEach(function () {
    dir = tempDir("dcl-crash-");
  });

  afterEach(function () {
    removeDir(dir);
  });

  it(`keeps every acknowledged entry, and stays append-only, across ${ROUNDS} SIGKILLs under load`, async function () {
    const acked = new Map<number, string>();
    let previous: { size: number; root: Uint8Array } | null = null;
    for (let round = 0; round < ROUNDS; round++) {
      const { acks } = await runWriterUntilKilled(dir, 1 + Math.floor(Math.random() * 400));
      for (const [index, hash] of acks) {
        // An index acknowledged before a crash is never handed out again for other bytes.
        expect(acked.get(index) ?? hash, `index ${index} re-acknowledged with other bytes in round ${round}`).to.equal(hash);
        acked.set(index, hash);
      }
      expect(acks.length).to.be.greaterThan(0);

      const log = await MerkleLog.open(dir);
      try {
        const size = log.size();
        const root = await log.root();
        expect(size, `size after round ${round}`).to.be.at.least(Math.max(...acked.keys()) + 1);
        for (const [index, hash] of acked) {
          const bytes = await log.get(index);
          expect(toHex(leafHash(bytes)), `entry ${index} after round ${round}`).to.equal(hash);
          const leaf = await log.leafHashAt(index);
          verifyInclusion(index, size, leaf, await log.inclusionProof(index, size), root);
        }
        if (previous && previous.size < size) {
          verifyConsistency(previous.size, size, previous.root, root, await log.consistencyProof(previous.size, size));
        } else if (previous) {
          expect(toHex(root)).to.equal(toHex(previous.root));
        }
        previous = { size, root };
      } finally {
        await log.close();
      }
    }
    expect(acked.size).to.be.at.least(ROUNDS);
  });
});

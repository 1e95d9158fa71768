import type { Signer } from "ethers";
import { Checkpoint, checkpointSigningPayload, formatSignedCheckpoint, fromHex } from "../verify";
import type { MerkleLog } from "./merkle-log";

/** A signed checkpoint as served: the parsed fields and the note text. */
export interface SignedCheckpointNote {
  checkpoint: Checkpoint;
  signer: string;
  note: string;
}

/** Signs C2SP checkpoints of a MerkleLog with the operator's Ethereum key (EIP-191 over the body). */
export class CheckpointSigner {
  /** `origin` names the log (C2SP origin line, also the signature key name). */
  constructor(
    private readonly log: MerkleLog,
    private readonly signer: Signer,
    readonly origin: string,
  ) {}

  /** Signs the checkpoint of `size` entries (default: every committed entry). */
  async sign(size: number = this.log.size()): Promise<SignedCheckpointNote> {
    const checkpoint: Checkpoint = { origin: this.origin, size, root: await this.log.root(size) };
    const [address, signature] = await Promise.all([
      this.signer.getAddress(),
      this.signer.signMessage(checkpointSigningPayload(checkpoint)),
    ]);
    return { checkpoint, signer: address, note: formatSignedCheckpoint(checkpoint, [{ signer: address, signature: fromHex(signature) }]) };
  }
}

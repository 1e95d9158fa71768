// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title Non-tax transfers: fee data batches co-signed by the providing department and the tax service
interface INonTaxTransfers {
    /// @notice A batch of fee records (EIP-712 type `Transfer`), co-signed by `from` and `to`.
    struct TransferBatch {
        bytes32 from; // providing department (water resources, civil air defence, …)
        bytes32 to; // receiving department (the tax service)
        bytes32 category; // fee category, e.g. keccak256("water-resource-fee")
        uint32 period; // YYYYMM
        uint64 recordCount; // number of fee records: the size of the records tree
        uint128 totalFen; // sum of the assessed amounts, in fen
        bytes32 recordsRoot; // RFC 6962 root over the canonical fee records
        bytes32 payloadHash; // SHA-256 of the whole payload as delivered
        bytes32[] parents; // earlier transfers this one derives from (lineage)
        uint64 nonce; // makes otherwise equal batches distinct
    }

    /// @notice The tax side's result, co-signed by both (EIP-712 type `Reconciliation`).
    struct Reconciliation {
        bytes32 transferId; // the batch reconciled
        uint64 collectedCount; // records fully or partly collected
        uint128 collectedFen; // amount collected, in fen
        bytes32 resultsRoot; // RFC 6962 root over the per-record collection results
    }

    /// @notice State of a transfer.
    enum Status {
        None,
        Submitted,
        Reconciled
    }

    /// @notice A transfer as stored.
    struct Transfer {
        bytes32 from;
        bytes32 to;
        bytes32 recordsRoot;
        uint64 recordCount;
        uint64 submittedAt; // block time the co-signed batch went on chain
        uint64 reconciledAt; // block time of the co-signed reconciliation (zero: not yet)
        uint32 disputes; // number of (record, party) disputes so far: a record disputed by both counts twice
        Status status;
    }

    /// @dev The batch is empty, or `from` equals `to`, or it has too many parents.
    error TransfersInvalidBatch();
    /// @dev A transfer with these contents is already on chain (a replayed submission).
    error TransfersAlreadyExists(bytes32 id);
    /// @dev No transfer `id`.
    error TransfersUnknown(bytes32 id);
    /// @dev Transfer `id` is in `status`, which does not allow the operation.
    error TransfersWrongStatus(bytes32 id, Status status);
    /// @dev `department` is not a party (from or to) of transfer `id`.
    error TransfersNotParty(bytes32 id, bytes32 department);
    /// @dev The disputed record is not in the batch: the Merkle proof does not verify.
    error TransfersRecordNotInBatch(bytes32 id, uint64 leafIndex);
    /// @dev `department` already disputed record `leafIndex` of transfer `id`.
    error TransfersAlreadyDisputed(bytes32 id, uint64 leafIndex, bytes32 department);
    /// @dev The batch of transfer `id` was cancelled before submission: it can no longer be submitted.
    error TransfersCancelled(bytes32 id);

    /// @notice Transfer `id` was co-signed and recorded; `fromSigner` and `toSigner` are the keys that signed
    ///         for `from` and `to`.
    event TransferSubmitted(
        bytes32 indexed id,
        bytes32 indexed from,
        bytes32 indexed to,
        bytes32 category,
        uint32 period,
        uint64 recordCount,
        uint128 totalFen,
        bytes32 recordsRoot,
        bytes32 payloadHash,
        bytes32[] parents,
        address fromSigner,
        address toSigner
    );
    /// @notice Transfer `id` was reconciled, `elapsed` seconds after its submission, co-signed by the keys
    ///         `fromSigner` (for its `from`) and `toSigner` (for its `to`).
    event TransferReconciled(
        bytes32 indexed id,
        uint64 collectedCount,
        uint128 collectedFen,
        bytes32 resultsRoot,
        uint64 elapsed,
        address fromSigner,
        address toSigner
    );
    /// @notice A signer `signer` of `department`, a party, cancelled the batch of transfer `id` before submission (final).
    event TransferCancelled(bytes32 indexed id, bytes32 indexed department, address signer);
    /// @notice `department` disputed record `leafIndex` (leaf hash `leafHash`) of transfer `id`, by the
    ///         signature of its signer `signer`.
    event TransferRecordDisputed(
        bytes32 indexed id,
        bytes32 indexed department,
        uint64 leafIndex,
        bytes32 leafHash,
        bytes32 reasonHash,
        address signer
    );
}

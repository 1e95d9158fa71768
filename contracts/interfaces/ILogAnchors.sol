// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title Log anchors: checkpoints of the ledger nodes' verifiable logs, on chain
interface ILogAnchors {
    /// @notice A checkpoint of a log as anchored.
    struct Checkpoint {
        uint64 treeSize; // number of entries the root commits to
        uint64 timestamp; // block time of the anchoring transaction (unix seconds)
        uint64 blockNumber; // block of the anchoring transaction
        bytes32 root; // RFC 6962 root hash of the first `treeSize` entries
    }

    /// @dev `logId` is zero or already registered.
    error AnchorsInvalidLogId(bytes32 logId);
    /// @dev `logId` is not registered.
    error AnchorsUnknownLog(bytes32 logId);
    /// @dev `operator` is not a registered department.
    error AnchorsUnknownOperator(bytes32 operator);
    /// @dev A checkpoint must grow the tree: `treeSize` is not above the latest `latestSize`.
    error AnchorsSizeNotGrowing(bytes32 logId, uint64 treeSize, uint64 latestSize);
    /// @dev The proof does not show the latest anchored checkpoint (`latestSize`) to be a prefix of the new one:
    ///      the new checkpoint forks the log's anchored history (or the proof is wrong).
    error AnchorsNotConsistent(bytes32 logId, uint64 latestSize, uint64 treeSize);
    /// @dev The first checkpoint of a log is anchored without a consistency proof.
    error AnchorsUnexpectedProof(bytes32 logId);
    /// @dev The tree may grow by at most MAX_GROWTH_PER_SECOND entries per second since the last anchor (or the
    ///      log's registration): `treeSize` is beyond `maxSize`.
    error AnchorsGrowthTooFast(bytes32 logId, uint64 treeSize, uint64 maxSize);
    /// @dev `logId` was retired: it takes no more checkpoints.
    error AnchorsLogRetired(bytes32 logId);
    /// @dev No checkpoint number `index` for `logId`.
    error AnchorsUnknownCheckpoint(bytes32 logId, uint256 index);

    /// @notice Log `logId` is operated by department `operator`.
    event LogRegistered(bytes32 indexed logId, bytes32 indexed operator);
    /// @notice Log `logId` was retired by the governor (e.g. bricked by a compromised key, or replaced).
    event LogRetired(bytes32 indexed logId, bytes32 reasonHash, address by);
    /// @notice Checkpoint number `index` of `logId` was anchored.
    event CheckpointAnchored(bytes32 indexed logId, uint256 indexed index, uint64 treeSize, bytes32 root);

    /// @notice The operating department of `logId` (reverts if unknown).
    function operatorOf(bytes32 logId) external view returns (bytes32);

    /// @notice True when `logId` was retired.
    function isRetired(bytes32 logId) external view returns (bool);
}

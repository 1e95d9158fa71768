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
    /// @dev No checkpoint number `index` for `logId`.
    error AnchorsUnknownCheckpoint(bytes32 logId, uint256 index);

    /// @notice Log `logId` is operated by department `operator`.
    event LogRegistered(bytes32 indexed logId, bytes32 indexed operator);
    /// @notice Checkpoint number `index` of `logId` was anchored.
    event CheckpointAnchored(bytes32 indexed logId, uint256 indexed index, uint64 treeSize, bytes32 root);

    /// @notice The operating department of `logId` (reverts if unknown).
    function operatorOf(bytes32 logId) external view returns (bytes32);
}

// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {DepartmentAuth} from "./base/DepartmentAuth.sol";
import {IDepartmentRegistry} from "./interfaces/IDepartmentRegistry.sol";
import {ILogAnchors} from "./interfaces/ILogAnchors.sol";
import {RFC6962} from "./lib/RFC6962.sol";

/// @title Log anchors
/// @notice Each log is registered to its operating department by the governor; only a current signer
///         of that department appends checkpoints. Each checkpoint must grow the tree and come with an
///         RFC 6962 consistency proof from the latest anchored one, verified here: a rewritten history
///         (a fork) cannot be anchored at all, not merely detected off chain. The new part of a tree is
///         free, so a compromised key could still anchor a huge fake tree that no honest checkpoint could
///         extend; growth is therefore bounded by time (MAX_GROWTH_PER_SECOND), and the governor can
///         retire a log so that it is replaced by a new one.
contract LogAnchors is ILogAnchors, DepartmentAuth {
    /// @notice Entries a log may grow by per second of chain time since its last anchor (or registration):
    ///         ~300x the seed scenario's peak (3,360 calls/s); 2^64 entries would take over 500,000 years.
    uint64 public constant MAX_GROWTH_PER_SECOND = 1_000_000;

    mapping(bytes32 logId => bytes32 operator) private _operators;
    mapping(bytes32 logId => Checkpoint[]) private _checkpoints;
    mapping(bytes32 logId => uint64 registeredAt) private _registeredAt;
    mapping(bytes32 logId => bool) private _retired;

    constructor(IDepartmentRegistry registry_) DepartmentAuth(registry_, "dcl LogAnchors") {}

    /// @notice Registers log `logId`, operated by department `operator`.
    function registerLog(bytes32 logId, bytes32 operator) external {
        _requireRole(GOVERNOR_ROLE);
        if (logId == bytes32(0) || _operators[logId] != bytes32(0)) revert AnchorsInvalidLogId(logId);
        if (!registry.exists(operator)) revert AnchorsUnknownOperator(operator);
        _operators[logId] = operator;
        _registeredAt[logId] = uint64(block.timestamp);
        emit LogRegistered(logId, operator);
    }

    /// @notice Retires log `logId` for the reason hashed in `reasonHash`: it takes no more checkpoints, its
    ///         history stays readable. Its operator then runs a new log under a new id.
    function retireLog(bytes32 logId, bytes32 reasonHash) external {
        _requireRole(GOVERNOR_ROLE);
        operatorOf(logId);
        if (_retired[logId]) revert AnchorsLogRetired(logId);
        _retired[logId] = true;
        emit LogRetired(logId, reasonHash, msg.sender);
    }

    /// @notice Anchors the checkpoint `(treeSize, root)` of `logId`, with `consistency`, the RFC 6962
    ///         consistency proof from the latest anchored checkpoint (empty for a log's first checkpoint);
    ///         returns its index in the history.
    function anchor(
        bytes32 logId,
        uint64 treeSize,
        bytes32 root,
        bytes32[] calldata consistency
    ) external returns (uint256 index) {
        _requireSigner(operatorOf(logId));
        if (_retired[logId]) revert AnchorsLogRetired(logId);
        Checkpoint[] storage history = _checkpoints[logId];
        index = history.length;
        Checkpoint memory latest;
        if (index != 0) latest = history[index - 1];
        if (treeSize <= latest.treeSize) revert AnchorsSizeNotGrowing(logId, treeSize, latest.treeSize);
        uint64 since = index == 0 ? _registeredAt[logId] : latest.timestamp;
        uint256 maxSize = uint256(latest.treeSize) + uint256(MAX_GROWTH_PER_SECOND) * (block.timestamp - since + 1);
        if (treeSize > maxSize) revert AnchorsGrowthTooFast(logId, treeSize, uint64(maxSize));
        if (index == 0) {
            if (consistency.length != 0) revert AnchorsUnexpectedProof(logId);
        } else if (!RFC6962.verifyConsistency(latest.treeSize, treeSize, latest.root, root, consistency)) {
            revert AnchorsNotConsistent(logId, latest.treeSize, treeSize);
        }
        history.push(Checkpoint(treeSize, uint64(block.timestamp), uint64(block.number), root));
        emit CheckpointAnchored(logId, index, treeSize, root);
    }

    /// @inheritdoc ILogAnchors
    function operatorOf(bytes32 logId) public view returns (bytes32 operator) {
        operator = _operators[logId];
        if (operator == bytes32(0)) revert AnchorsUnknownLog(logId);
    }

    /// @notice Number of checkpoints anchored for `logId`.
    function checkpointCount(bytes32 logId) external view returns (uint256) {
        return _checkpoints[logId].length;
    }

    /// @notice Checkpoint number `index` of `logId`.
    function checkpointAt(bytes32 logId, uint256 index) public view returns (Checkpoint memory) {
        Checkpoint[] storage history = _checkpoints[logId];
        if (index >= history.length) revert AnchorsUnknownCheckpoint(logId, index);
        return history[index];
    }

    /// @notice The latest checkpoint of `logId` (treeSize 0 when none is anchored yet).
    function latestCheckpoint(bytes32 logId) external view returns (Checkpoint memory checkpoint) {
        Checkpoint[] storage history = _checkpoints[logId];
        if (history.length != 0) checkpoint = history[history.length - 1];
    }

    /// @notice True when `logId` was retired.
    function isRetired(bytes32 logId) external view returns (bool) {
        return _retired[logId];
    }

    /// @notice True when entry `leafIndex` with leaf hash `leafHash` is in checkpoint `checkpointIndex` of `logId`.
    function verifyInclusion(
        bytes32 logId,
        uint256 checkpointIndex,
        uint256 leafIndex,
        bytes32 leafHash,
        bytes32[] calldata proof
    ) external view returns (bool) {
        Checkpoint memory c = checkpointAt(logId, checkpointIndex);
        return RFC6962.verifyInclusion(leafIndex, c.treeSize, leafHash, proof, c.root);
    }
}

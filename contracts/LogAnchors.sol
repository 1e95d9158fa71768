// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {DepartmentAuth} from "./base/DepartmentAuth.sol";
import {IDepartmentRegistry} from "./interfaces/IDepartmentRegistry.sol";
import {ILogAnchors} from "./interfaces/ILogAnchors.sol";
import {RFC6962} from "./lib/RFC6962.sol";

/// @title Log anchors
/// @notice Each log is registered to its operating department by the governor; only a current signer
///         of that department appends checkpoints, and each must grow the tree.
contract LogAnchors is ILogAnchors, DepartmentAuth {
    mapping(bytes32 logId => bytes32 operator) private _operators;
    mapping(bytes32 logId => Checkpoint[]) private _checkpoints;

    constructor(IDepartmentRegistry registry_) DepartmentAuth(registry_, "dcl LogAnchors") {}

    /// @notice Registers log `logId`, operated by department `operator`.
    function registerLog(bytes32 logId, bytes32 operator) external {
        _requireRole(GOVERNOR_ROLE);
        if (logId == bytes32(0) || _operators[logId] != bytes32(0)) revert AnchorsInvalidLogId(logId);
        if (!registry.exists(operator)) revert AnchorsUnknownOperator(operator);
        _operators[logId] = operator;
        emit LogRegistered(logId, operator);
    }

    /// @notice Anchors the checkpoint `(treeSize, root)` of `logId`; returns its index in the history.
    function anchor(bytes32 logId, uint64 treeSize, bytes32 root) external returns (uint256 index) {
        _requireSigner(operatorOf(logId));
        Checkpoint[] storage history = _checkpoints[logId];
        uint64 latestSize = history.length == 0 ? 0 : history[history.length - 1].treeSize;
        if (treeSize <= latestSize) revert AnchorsSizeNotGrowing(logId, treeSize, latestSize);
        index = history.length;
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

// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {DepartmentAuth, DepartmentSignature} from "./base/DepartmentAuth.sol";
import {IDepartmentRegistry} from "./interfaces/IDepartmentRegistry.sol";
import {INonTaxTransfers} from "./interfaces/INonTaxTransfers.sol";
import {RFC6962} from "./lib/RFC6962.sol";

/// @title Cross-department non-tax transfer proofs
/// @notice The providing department and the tax service co-sign each batch of fee records, then its
///         reconciliation; either may dispute one record by proving it is in the batch. Departments act by
///         EIP-712 signature only, so any account (a platform node) may relay.
contract NonTaxTransfers is INonTaxTransfers, DepartmentAuth {
    /// @notice EIP-712 type hash of `TransferBatch`.
    bytes32 public constant TRANSFER_TYPEHASH =
        keccak256(
            "Transfer(bytes32 from,bytes32 to,bytes32 category,uint32 period,uint64 recordCount,uint128 totalFen,bytes32 recordsRoot,bytes32 payloadHash,bytes32[] parents,uint64 nonce)"
        );
    /// @notice EIP-712 type hash of `Reconciliation`.
    bytes32 public constant RECONCILIATION_TYPEHASH =
        keccak256("Reconciliation(bytes32 transferId,uint64 collectedCount,uint128 collectedFen,bytes32 resultsRoot)");
    /// @notice EIP-712 type hash of a party's dispute of one record; `leafHash` is the RFC 6962 hash of the record.
    bytes32 public constant DISPUTE_TYPEHASH =
        keccak256(
            "Dispute(bytes32 transferId,bytes32 department,uint64 leafIndex,bytes32 leafHash,bytes32 reasonHash)"
        );
    /// @notice EIP-712 type hash of the cancellation of a batch not yet submitted, signed by a signer of either party.
    /// @dev Cancellation is final, so the id alone cannot be replayed.
    bytes32 public constant TRANSFER_CANCELLATION_TYPEHASH = keccak256("TransferCancellation(bytes32 transferId)");
    /// @notice A transfer names at most this many parents.
    uint256 public constant MAX_PARENTS = 16;

    mapping(bytes32 id => Transfer) private _transfers;
    mapping(bytes32 id => uint64 cancelledAt) private _cancelledAt;
    mapping(bytes32 id => mapping(uint64 leafIndex => mapping(bytes32 department => bool))) private _disputed;

    constructor(IDepartmentRegistry registry_) DepartmentAuth(registry_, "dcl NonTaxTransfers") {}

    /// @notice Records the co-signed batch `batch`; any account may submit the two signatures.
    function submit(
        TransferBatch calldata batch,
        DepartmentSignature calldata fromSig,
        DepartmentSignature calldata toSig
    ) external returns (bytes32 id) {
        if (batch.recordCount == 0 || batch.from == batch.to || batch.parents.length > MAX_PARENTS) {
            revert TransfersInvalidBatch();
        }
        for (uint256 i = 0; i < batch.parents.length; ++i) {
            _existing(batch.parents[i]);
        }
        id = hashBatch(batch);
        if (_transfers[id].status != Status.None) revert TransfersAlreadyExists(id);
        if (_cancelledAt[id] != 0) revert TransfersCancelled(id);
        _requireDepartmentSignature(batch.from, id, fromSig);
        _requireDepartmentSignature(batch.to, id, toSig);
        _transfers[id] = Transfer({
            from: batch.from,
            to: batch.to,
            recordsRoot: batch.recordsRoot,
            recordCount: batch.recordCount,
            submittedAt: uint64(block.timestamp),
            reconciledAt: 0,
            disputes: 0,
            status: Status.Submitted
        });
        emit TransferSubmitted(
            id,
            batch.from,
            batch.to,
            batch.category,
            batch.period,
            batch.recordCount,
            batch.totalFen,
            batch.recordsRoot,
            batch.payloadHash,
            batch.parents,
            fromSig.signer,
            toSig.signer
        );
    }

    /// @notice A signer of `department`, the batch's `from` or `to`, cancels batch `batch` before it was submitted, by
    ///         its EIP-712 `TransferCancellation` signature; any account may submit. The batch can then never be
    ///         submitted. Closes the review's "signed terms without a deadline" (issue 9) for fee batches.
    function cancel(TransferBatch calldata batch, bytes32 department, DepartmentSignature calldata sig) external {
        bytes32 id = hashBatch(batch);
        if (department != batch.from && department != batch.to) revert TransfersNotParty(id, department);
        _requireDepartmentSignature(department, keccak256(abi.encode(TRANSFER_CANCELLATION_TYPEHASH, id)), sig);
        Status status = _transfers[id].status;
        if (status != Status.None) revert TransfersWrongStatus(id, status);
        if (_cancelledAt[id] != 0) revert TransfersCancelled(id);
        _cancelledAt[id] = uint64(block.timestamp);
        emit TransferCancelled(id, department, sig.signer);
    }

    /// @notice When the batch of transfer `id` was cancelled before submission (zero: not cancelled).
    function cancelledAt(bytes32 id) external view returns (uint64) {
        return _cancelledAt[id];
    }

    /// @notice Records the reconciliation `rec`, co-signed by both parties of its transfer.
    function reconcile(
        Reconciliation calldata rec,
        DepartmentSignature calldata fromSig,
        DepartmentSignature calldata toSig
    ) external {
        Transfer storage t = _existing(rec.transferId);
        if (t.status != Status.Submitted) revert TransfersWrongStatus(rec.transferId, t.status);
        bytes32 structHash = keccak256(abi.encode(RECONCILIATION_TYPEHASH, rec));
        _requireDepartmentSignature(t.from, structHash, fromSig);
        _requireDepartmentSignature(t.to, structHash, toSig);
        t.status = Status.Reconciled;
        t.reconciledAt = uint64(block.timestamp);
        emit TransferReconciled(
            rec.transferId,
            rec.collectedCount,
            rec.collectedFen,
            rec.resultsRoot,
            t.reconciledAt - t.submittedAt,
            fromSig.signer,
            toSig.signer
        );
    }

    /// @notice `department` (a party of transfer `id`) disputes the fee record `record`, proving with `proof`
    ///         that it is leaf `leafIndex` of the batch, by a signer's EIP-712 `Dispute` signature; any account
    ///         may submit. Each party disputes a record once, which also makes the signature single-use.
    function dispute(
        bytes32 id,
        bytes32 department,
        uint64 leafIndex,
        bytes calldata record,
        bytes32[] calldata proof,
        bytes32 reasonHash,
        DepartmentSignature calldata sig
    ) external {
        Transfer storage t = _existing(id);
        if (department != t.from && department != t.to) revert TransfersNotParty(id, department);
        if (_disputed[id][leafIndex][department]) revert TransfersAlreadyDisputed(id, leafIndex, department);
        bytes32 leaf = RFC6962.leafHash(record);
        if (!RFC6962.verifyInclusion(leafIndex, t.recordCount, leaf, proof, t.recordsRoot)) {
            revert TransfersRecordNotInBatch(id, leafIndex);
        }
        _requireDepartmentSignature(
            department,
            keccak256(abi.encode(DISPUTE_TYPEHASH, id, department, leafIndex, leaf, reasonHash)),
            sig
        );
        _disputed[id][leafIndex][department] = true;
        t.disputes += 1;
        emit TransferRecordDisputed(id, department, leafIndex, leaf, reasonHash, sig.signer);
    }

    /// @notice Transfer `id` (reverts if unknown).
    function transfer(bytes32 id) external view returns (Transfer memory) {
        return _existing(id);
    }

    /// @notice Has `department` disputed record `leafIndex` of transfer `id`?
    function isDisputed(bytes32 id, uint64 leafIndex, bytes32 department) external view returns (bool) {
        return _disputed[id][leafIndex][department];
    }

    /// @notice EIP-712 struct hash of `batch`: the transfer's id.
    function hashBatch(TransferBatch calldata batch) public pure returns (bytes32) {
        return
            keccak256(
                abi.encode(
                    TRANSFER_TYPEHASH,
                    batch.from,
                    batch.to,
                    batch.category,
                    batch.period,
                    batch.recordCount,
                    batch.totalFen,
                    batch.recordsRoot,
                    batch.payloadHash,
                    keccak256(abi.encodePacked(batch.parents)),
                    batch.nonce
                )
            );
    }

    function _existing(bytes32 id) private view returns (Transfer storage t) {
        t = _transfers[id];
        if (t.status == Status.None) revert TransfersUnknown(id);
    }
}

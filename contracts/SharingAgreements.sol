// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {DepartmentAuth, DepartmentSignature} from "./base/DepartmentAuth.sol";
import {IDepartmentRegistry} from "./interfaces/IDepartmentRegistry.sol";
import {IResourceCatalog} from "./interfaces/IResourceCatalog.sol";
import {ILogAnchors} from "./interfaces/ILogAnchors.sol";
import {ISharingAgreements} from "./interfaces/ISharingAgreements.sol";

/// @title Sharing agreements with total-volume quotas, co-signed by provider and consumer
/// @notice Over-quota policy: usage is reported after the fact by the log operator, so the chain never
///         refuses a report (that would hide what happened); a report beyond the quota is recorded and
///         flagged with `AgreementQuotaExceeded` for the regulator. The API refuses calls before they
///         would exceed the quota, so in normal operation the flag never fires.
///         One log meters an agreement: the first log to report its usage becomes its metering log, and a
///         report from any other log is refused. Usage is a running total kept by a log's node; two nodes'
///         totals for one agreement would clash (each below the other's, or summing to more than was used),
///         and no report could be trusted. The binding is visible on chain in the first `UsageReported`.
contract SharingAgreements is ISharingAgreements, DepartmentAuth {
    /// @notice EIP-712 type hash of `AgreementTerms`.
    bytes32 public constant AGREEMENT_TYPEHASH =
        keccak256(
            "Agreement(bytes32 provider,bytes32 consumer,bytes32 resource,bytes32 purposeHash,uint64 quota,uint64 validFrom,uint64 validUntil,uint64 nonce)"
        );

    /// @notice The catalog that says who owns a resource and whether it may be shared.
    IResourceCatalog public immutable catalog;
    /// @notice The log registry whose operators report usage.
    ILogAnchors public immutable anchors;

    mapping(bytes32 id => Agreement) private _agreements;
    mapping(bytes32 id => bytes32 logId) private _meteringLogs;

    constructor(
        IDepartmentRegistry registry_,
        IResourceCatalog catalog_,
        ILogAnchors anchors_
    ) DepartmentAuth(registry_, "dcl SharingAgreements") {
        catalog = catalog_;
        anchors = anchors_;
    }

    /// @notice Activates the agreement `terms`, signed by a current signer of each of the two departments.
    /// @dev Any account may submit; the id is the EIP-712 struct hash, so a second submission is refused.
    function activate(
        AgreementTerms calldata terms,
        DepartmentSignature calldata providerSig,
        DepartmentSignature calldata consumerSig
    ) external returns (bytes32 id) {
        if (terms.quota == 0 || terms.validUntil <= terms.validFrom || terms.validUntil <= block.timestamp) {
            revert AgreementsInvalidTerms(terms.quota, terms.validFrom, terms.validUntil);
        }
        IResourceCatalog.Resource memory r = catalog.resource(terms.resource);
        if (r.owner != terms.provider) revert AgreementsProviderNotOwner(terms.resource, terms.provider);
        if (r.condition == IResourceCatalog.SharingCondition.NotShareable) {
            revert AgreementsResourceNotShareable(terms.resource);
        }
        id = hashTerms(terms);
        if (_agreements[id].status != Status.None) revert AgreementsAlreadyExists(id);
        _requireDepartmentSignature(terms.provider, id, providerSig);
        _requireDepartmentSignature(terms.consumer, id, consumerSig);
        _agreements[id] = Agreement({
            provider: terms.provider,
            consumer: terms.consumer,
            resource: terms.resource,
            quota: terms.quota,
            used: 0,
            validFrom: terms.validFrom,
            validUntil: terms.validUntil,
            status: Status.Active
        });
        emit AgreementActivated(
            id,
            terms.provider,
            terms.consumer,
            terms.resource,
            terms.purposeHash,
            terms.quota,
            terms.validFrom,
            terms.validUntil,
            providerSig.signer,
            consumerSig.signer
        );
    }

    /// @notice The provider ends agreement `id` for good.
    function revoke(bytes32 id) external {
        Agreement storage a = _existing(id);
        _requireSigner(a.provider);
        if (a.status == Status.Revoked) revert AgreementsWrongStatus(id, a.status);
        a.status = Status.Revoked;
        emit AgreementRevoked(id, msg.sender);
    }

    /// @notice The regulator suspends active agreement `id`, giving the hash of its reasons.
    function suspend(bytes32 id, bytes32 reasonHash) external {
        _requireRole(REGULATOR_ROLE);
        Agreement storage a = _existing(id);
        if (a.status != Status.Active) revert AgreementsWrongStatus(id, a.status);
        a.status = Status.Suspended;
        emit AgreementSuspended(id, reasonHash, msg.sender);
    }

    /// @notice The regulator resumes suspended agreement `id`.
    function resume(bytes32 id) external {
        _requireRole(REGULATOR_ROLE);
        Agreement storage a = _existing(id);
        if (a.status != Status.Suspended) revert AgreementsWrongStatus(id, a.status);
        a.status = Status.Active;
        emit AgreementResumed(id, msg.sender);
    }

    /// @notice The operator of log `logId` reports the cumulative usage of each agreement in `ids`; the first
    ///         report of an agreement binds it to `logId`, and a later report from another log reverts.
    function reportUsage(bytes32 logId, bytes32[] calldata ids, uint64[] calldata used) external {
        if (ids.length != used.length) revert AgreementsLengthMismatch();
        _requireSigner(anchors.operatorOf(logId));
        for (uint256 i = 0; i < ids.length; ++i) {
            _report(logId, ids[i], used[i]);
        }
    }

    /// @notice Agreement `id` (reverts if unknown).
    function agreement(bytes32 id) external view returns (Agreement memory) {
        return _existing(id);
    }

    /// @notice The log that meters agreement `id`: the first to report its usage (zero until then).
    function meteringLog(bytes32 id) external view returns (bytes32) {
        return _meteringLogs[id];
    }

    /// @notice True when agreement `id` is active now and `at` lies in its validity window.
    function isActiveAt(bytes32 id, uint64 at) external view returns (bool) {
        Agreement storage a = _agreements[id];
        return a.status == Status.Active && a.validFrom <= at && at < a.validUntil;
    }

    /// @notice EIP-712 struct hash of `terms`: the agreement's id.
    function hashTerms(AgreementTerms calldata terms) public pure returns (bytes32) {
        return keccak256(abi.encode(AGREEMENT_TYPEHASH, terms));
    }

    function _report(bytes32 logId, bytes32 id, uint64 used) private {
        Agreement storage a = _existing(id);
        bytes32 bound = _meteringLogs[id];
        if (bound == bytes32(0)) {
            _meteringLogs[id] = logId; // log ids are never zero (LogAnchors refuses one)
        } else if (bound != logId) {
            revert AgreementsWrongLog(id, logId, bound);
        }
        if (used < a.used) revert AgreementsUsageDecreased(id, used, a.used);
        a.used = used;
        emit UsageReported(id, logId, used);
        if (used > a.quota) emit AgreementQuotaExceeded(id, a.quota, used);
    }

    function _existing(bytes32 id) private view returns (Agreement storage a) {
        a = _agreements[id];
        if (a.status == Status.None) revert AgreementsUnknown(id);
    }
}

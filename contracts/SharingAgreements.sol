// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
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
///         One log meters an agreement, named in the co-signed terms (`meteringLog`), and a report from any
///         other log is refused. Usage is a running total kept by a log's node; two nodes' totals for one
///         agreement would clash, and no report could be trusted. Naming the log in the terms closes the
///         review's "metering hijack": before, the first log to report bound the agreement, so any department
///         running a registered log could take over an agreement's metering and falsify its usage.
///         The provider and the regulator act by EIP-712 signature, never by `msg.sender`, so that a platform
///         node may relay their revocations, suspensions and resumptions.
contract SharingAgreements is ISharingAgreements, DepartmentAuth {
    /// @notice EIP-712 type hash of `AgreementTerms`.
    bytes32 public constant AGREEMENT_TYPEHASH =
        keccak256(
            "Agreement(bytes32 provider,bytes32 consumer,bytes32 resource,bytes32 purposeHash,uint64 quota,uint64 validFrom,uint64 validUntil,uint64 nonce,bytes32 meteringLog)"
        );
    /// @notice EIP-712 type hash of the revocation of an agreement, signed by a signer of its provider.
    /// @dev Revocation is final, so the id alone cannot be replayed.
    bytes32 public constant AGREEMENT_REVOCATION_TYPEHASH = keccak256("AgreementRevocation(bytes32 agreementId)");
    /// @notice EIP-712 type hash of a suspension or resumption, signed by a key holding the regulator role.
    /// @dev `status` is the target status, `reasonHash` is zero for a resumption, and `nonce` is the agreement's
    ///      `statusChanges`, so an old suspension cannot be replayed after a resumption (nor the reverse).
    bytes32 public constant AGREEMENT_STATUS_TYPEHASH =
        keccak256("AgreementStatusChange(bytes32 agreementId,uint8 status,bytes32 reasonHash,uint32 nonce)");

    /// @notice The catalog that says who owns a resource and whether it may be shared.
    IResourceCatalog public immutable catalog;
    /// @notice The log registry whose operators report usage.
    ILogAnchors public immutable anchors;

    mapping(bytes32 id => Agreement) private _agreements;

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
        if (!_isLiveLog(terms.meteringLog)) revert AgreementsInvalidMeteringLog(terms.meteringLog);
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
            status: Status.Active,
            statusChanges: 0,
            meteringLog: terms.meteringLog
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
            consumerSig.signer,
            terms.meteringLog
        );
    }

    /// @notice The provider ends agreement `id` for good, by a signer's EIP-712 `AgreementRevocation`
    ///         signature; any account may submit.
    function revoke(bytes32 id, DepartmentSignature calldata providerSig) external {
        Agreement storage a = _existing(id);
        if (a.status == Status.Revoked) revert AgreementsWrongStatus(id, a.status);
        _requireDepartmentSignature(a.provider, keccak256(abi.encode(AGREEMENT_REVOCATION_TYPEHASH, id)), providerSig);
        a.status = Status.Revoked;
        emit AgreementRevoked(id, providerSig.signer);
    }

    /// @notice Suspends active agreement `id` for the reasons hashed in `reasonHash`, by the EIP-712
    ///         `AgreementStatusChange` signature of `regulator`, a key holding the regulator role; any account may submit.
    function suspend(bytes32 id, bytes32 reasonHash, address regulator, bytes calldata signature) external {
        _changeStatus(id, Status.Active, Status.Suspended, reasonHash, regulator, signature);
        emit AgreementSuspended(id, reasonHash, regulator);
    }

    /// @notice Resumes suspended agreement `id`, by the EIP-712 `AgreementStatusChange` signature of
    ///         `regulator`, a key holding the regulator role (with a zero reason); any account may submit.
    function resume(bytes32 id, address regulator, bytes calldata signature) external {
        _changeStatus(id, Status.Suspended, Status.Active, bytes32(0), regulator, signature);
        emit AgreementResumed(id, regulator);
    }

    /// @notice The operator of log `logId` reports the cumulative usage of each agreement in `ids`; an
    ///         agreement metered by another log reverts the report (`AgreementsWrongLog`).
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

    /// @notice The log that meters agreement `id`, as named in its terms.
    function meteringLog(bytes32 id) external view returns (bytes32) {
        return _existing(id).meteringLog;
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
        if (a.meteringLog != logId) revert AgreementsWrongLog(id, logId, a.meteringLog);
        if (used < a.used) revert AgreementsUsageDecreased(id, used, a.used);
        a.used = used;
        emit UsageReported(id, logId, used);
        if (used > a.quota) emit AgreementQuotaExceeded(id, a.quota, used);
    }

    /// @dev Moves agreement `id` from status `from` to `to` on `regulator`'s signature at the agreement's nonce,
    ///      and consumes the nonce.
    function _changeStatus(
        bytes32 id,
        Status from,
        Status to,
        bytes32 reasonHash,
        address regulator,
        bytes calldata signature
    ) private {
        if (!registry.hasRole(REGULATOR_ROLE, regulator)) revert DclMissingRole(REGULATOR_ROLE, regulator);
        Agreement storage a = _existing(id);
        if (a.status != from) revert AgreementsWrongStatus(id, a.status);
        uint32 nonce = a.statusChanges;
        bytes32 digest = _hashTypedDataV4(keccak256(abi.encode(AGREEMENT_STATUS_TYPEHASH, id, to, reasonHash, nonce)));
        if (!SignatureChecker.isValidSignatureNow(regulator, digest, signature)) {
            revert AgreementsInvalidRegulatorSignature(regulator);
        }
        a.status = to;
        a.statusChanges = nonce + 1;
    }

    /// @dev A registered log that is not retired (LogAnchors reverts for an unknown one; caught as false).
    function _isLiveLog(bytes32 logId) private view returns (bool) {
        try anchors.operatorOf(logId) returns (bytes32) {
            return !anchors.isRetired(logId);
        } catch {
            return false;
        }
    }

    function _existing(bytes32 id) private view returns (Agreement storage a) {
        a = _agreements[id];
        if (a.status == Status.None) revert AgreementsUnknown(id);
    }
}

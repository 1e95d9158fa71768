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
///         History: the activation, every suspension and resumption, and the revocation keep their block time, so
///         `isActiveAt` answers for any past moment with the status the agreement had then (the review's "history
///         the verifiers need", issue 9; before, it answered with today's status).
///         Not enforced here: an agreement stays active when its resource is later catalogued not shareable or a
///         party is deactivated (a deactivated party's keys cannot sign anything meanwhile). The ledger node
///         refuses every call under such an agreement (`RESOURCE_NOT_SHAREABLE`, `DEPARTMENT_INACTIVE`), so
///         reactivating the department or the resource resumes sharing without new signatures.
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
    /// @notice EIP-712 type hash of the cancellation of terms not yet activated, signed by a signer of either party.
    /// @dev Cancellation is final, so the id alone cannot be replayed.
    bytes32 public constant AGREEMENT_CANCELLATION_TYPEHASH = keccak256("AgreementCancellation(bytes32 agreementId)");

    /// @notice The catalog that says who owns a resource and whether it may be shared.
    IResourceCatalog public immutable catalog;
    /// @notice The log registry whose operators report usage.
    ILogAnchors public immutable anchors;

    mapping(bytes32 id => Agreement) private _agreements;
    mapping(bytes32 id => uint64 cancelledAt) private _cancelledAt;
    /// @dev Block time of each suspension and resumption; they alternate, so the status after change n is
    ///      Suspended for an even n (the first change is a suspension) and Active for an odd one.
    mapping(bytes32 id => mapping(uint32 nth => uint64 at)) private _statusChangedAt;

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
        if (_cancelledAt[id] != 0) revert AgreementsCancelled(id);
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
            activatedAt: uint64(block.timestamp),
            revokedAt: 0,
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
        a.revokedAt = uint64(block.timestamp);
        emit AgreementRevoked(id, providerSig.signer);
    }

    /// @notice A signer of `department`, the provider or the consumer, cancels the terms `terms` before they were
    ///         activated, by its EIP-712 `AgreementCancellation` signature; any account may submit. The terms can
    ///         then never be activated. Closes the review's "signed terms without a deadline" (issue 9): terms one
    ///         side signed and abandoned could be activated by the other side at any later time.
    function cancel(AgreementTerms calldata terms, bytes32 department, DepartmentSignature calldata sig) external {
        bytes32 id = hashTerms(terms);
        if (department != terms.provider && department != terms.consumer) revert AgreementsNotParty(id, department);
        _requireDepartmentSignature(department, keccak256(abi.encode(AGREEMENT_CANCELLATION_TYPEHASH, id)), sig);
        Status status = _agreements[id].status;
        if (status != Status.None) revert AgreementsWrongStatus(id, status);
        if (_cancelledAt[id] != 0) revert AgreementsCancelled(id);
        _cancelledAt[id] = uint64(block.timestamp);
        emit AgreementCancelled(id, department, sig.signer);
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

    /// @notice Was agreement `id` active at time `at`: in its validity window, activated at or before `at`, not
    ///         revoked before it, and not suspended at it? Answers for any past moment, from the stored history.
    /// @dev Times are whole seconds, and a moment in the second of a change cannot be ordered against it, so in
    ///      that second the agreement counts as active if it was active just before or just after (or between
    ///      two changes in that second) — as `ConsentRegistry.isValidAt` counts a consent's grant and revocation
    ///      seconds. The ledger node refuses calls once it knows of a suspension or revocation.
    function isActiveAt(bytes32 id, uint64 at) external view returns (bool) {
        Agreement storage a = _agreements[id];
        if (a.status == Status.None || at < a.validFrom || at >= a.validUntil || at < a.activatedAt) return false;
        if (a.revokedAt != 0 && at > a.revokedAt) return false;
        uint32 before = _changesBefore(id, a.statusChanges, at);
        // An even count of changes before `at` leaves it active; a change in the second of `at` makes it active
        // for part of that second.
        return before % 2 == 0 || (before < a.statusChanges && _statusChangedAt[id][before] == at);
    }

    /// @notice Block time of the `index`-th (from 0) suspension or resumption of agreement `id`: suspensions are the
    ///         even indices, resumptions the odd ones.
    function statusChangedAt(bytes32 id, uint32 index) external view returns (uint64) {
        if (index >= _agreements[id].statusChanges) revert AgreementsNoStatusChange(id, index);
        return _statusChangedAt[id][index];
    }

    /// @notice When the terms of agreement `id` were cancelled before activation (zero: not cancelled).
    function cancelledAt(bytes32 id) external view returns (uint64) {
        return _cancelledAt[id];
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
        _statusChangedAt[id][nonce] = uint64(block.timestamp);
    }

    /// @dev How many of the first `count` status changes of `id` happened before time `at` (binary search: their
    ///      times never decrease).
    function _changesBefore(bytes32 id, uint32 count, uint64 at) private view returns (uint32 low) {
        uint32 high = count;
        while (low < high) {
            uint32 mid = low + (high - low) / 2;
            if (_statusChangedAt[id][mid] < at) low = mid + 1;
            else high = mid;
        }
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

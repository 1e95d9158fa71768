// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title Sharing agreements: who may receive which resource, for what, how much and until when
interface ISharingAgreements {
    /// @notice The terms both departments sign (EIP-712 type `Agreement`).
    struct AgreementTerms {
        bytes32 provider; // providing department, the resource's owner
        bytes32 consumer; // consuming department
        bytes32 resource; // catalogued resource id
        bytes32 purposeHash; // hash of the purpose text
        uint64 quota; // total volume: records the consumer may receive over the whole agreement
        uint64 validFrom; // start of the validity window (unix seconds, inclusive)
        uint64 validUntil; // end of the validity window (unix seconds, exclusive)
        uint64 nonce; // makes otherwise equal terms a distinct agreement
        bytes32 meteringLog; // the one log whose operator reports this agreement's usage (LogAnchors log id)
    }

    /// @notice State of an agreement.
    enum Status {
        None,
        Active,
        Suspended,
        Revoked
    }

    /// @notice An agreement as stored.
    struct Agreement {
        bytes32 provider;
        bytes32 consumer;
        bytes32 resource;
        uint64 quota; // total volume agreed
        uint64 used; // cumulative volume reported by the log operator
        uint64 validFrom;
        uint64 validUntil;
        Status status;
        uint32 statusChanges; // suspensions and resumptions so far: the nonce of the next regulator signature
        uint64 activatedAt; // block time of the activation
        uint64 revokedAt; // block time of the revocation (zero: not revoked)
        bytes32 meteringLog; // named in the co-signed terms: the only log whose usage reports count
    }

    /// @dev The window `[validFrom, validUntil)` is empty or already over, or `quota` is zero.
    error AgreementsInvalidTerms(uint64 quota, uint64 validFrom, uint64 validUntil);
    /// @dev The provider does not own the resource.
    error AgreementsProviderNotOwner(bytes32 resource, bytes32 provider);
    /// @dev The resource is catalogued as not shareable.
    error AgreementsResourceNotShareable(bytes32 resource);
    /// @dev An agreement with these terms is already on chain (a replayed submission).
    error AgreementsAlreadyExists(bytes32 id);
    /// @dev No agreement `id`.
    error AgreementsUnknown(bytes32 id);
    /// @dev Agreement `id` is in `status`, which does not allow the operation.
    error AgreementsWrongStatus(bytes32 id, Status status);
    /// @dev Cumulative usage may only grow: `reported` is below the recorded `used`.
    error AgreementsUsageDecreased(bytes32 id, uint64 reported, uint64 used);
    /// @dev The terms name `logId` as metering log, which is not a registered log or is retired.
    error AgreementsInvalidMeteringLog(bytes32 logId);
    /// @dev Log `logId` reported usage of agreement `id`, which log `meteringLog` meters.
    error AgreementsWrongLog(bytes32 id, bytes32 logId, bytes32 meteringLog);
    /// @dev `signature` is not a valid EIP-712 `AgreementStatusChange` signature by `regulator` for this change.
    error AgreementsInvalidRegulatorSignature(address regulator);
    /// @dev `ids` and `used` differ in length.
    error AgreementsLengthMismatch();
    /// @dev The terms of agreement `id` were cancelled before activation: they can no longer be activated.
    error AgreementsCancelled(bytes32 id);
    /// @dev `department` is neither the provider nor the consumer of the terms of agreement `id`.
    error AgreementsNotParty(bytes32 id, bytes32 department);
    /// @dev Agreement `id` has had fewer than `index` + 1 suspensions and resumptions.
    error AgreementsNoStatusChange(bytes32 id, uint32 index);

    /// @notice Agreement `id` was co-signed and is active.
    event AgreementActivated(
        bytes32 indexed id,
        bytes32 indexed provider,
        bytes32 indexed consumer,
        bytes32 resource,
        bytes32 purposeHash,
        uint64 quota,
        uint64 validFrom,
        uint64 validUntil,
        address providerSigner,
        address consumerSigner,
        bytes32 meteringLog
    );
    /// @notice A signer `signer` of `department`, a party, cancelled the terms of agreement `id` before activation (final).
    event AgreementCancelled(bytes32 indexed id, bytes32 indexed department, address signer);
    /// @notice The provider revoked agreement `id` (final).
    event AgreementRevoked(bytes32 indexed id, address by);
    /// @notice The regulator suspended agreement `id`.
    event AgreementSuspended(bytes32 indexed id, bytes32 reasonHash, address by);
    /// @notice The regulator resumed agreement `id`.
    event AgreementResumed(bytes32 indexed id, address by);
    /// @notice The operator of log `logId` reported cumulative usage `used` of agreement `id`; the first
    ///         report of an agreement names the log that meters it from then on.
    event UsageReported(bytes32 indexed id, bytes32 indexed logId, uint64 used);
    /// @notice Reported usage `used` of agreement `id` is beyond its quota: the regulator watches this.
    event AgreementQuotaExceeded(bytes32 indexed id, uint64 quota, uint64 used);
}

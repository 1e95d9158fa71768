// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title Consent registry: data subjects' consents, separate or explicit, revocable
/// @notice No personal identifier is ever on chain: a subject is a commitment, a salted hash computed
///         off chain with a per-subject secret (a bare hash of an ID number is brute-forceable).
interface IConsentRegistry {
    /// @notice Kind of authorisation, as the personal-information rules name them.
    enum Kind {
        Separate, // 单独授权: a consent given for this use alone
        Explicit // 明示授权: an explicit consent
    }

    /// @notice The terms of a consent (EIP-712 type `Consent`); only their hash is stored.
    struct ConsentTerms {
        bytes32 subject; // salted commitment to the data subject
        bytes32 grantee; // department allowed to use the data
        bytes32 resource; // catalogued resource the consent covers
        bytes32 purposeHash; // hash of the purpose text
        Kind kind; // separate or explicit
        uint64 validUntil; // expiry (unix seconds, exclusive)
        bytes32 evidenceHash; // hash of the signed consent form or recording
        bytes32 recorder; // department that collected the consent
        address subjectSigner; // the subject's own key, or zero when the subject does not sign
        uint64 nonce; // makes otherwise equal terms a distinct consent
    }

    /// @notice What is stored per consent: one storage slot.
    struct ConsentRecord {
        uint64 grantedAt; // block time of the grant (zero: no such consent)
        uint64 validUntil; // expiry, from the terms
        uint64 revokedAt; // block time of the revocation (zero: not revoked)
    }

    /// @dev `validUntil` is not in the future.
    error ConsentsInvalidExpiry(uint64 validUntil);
    /// @dev A consent with these terms was already granted (a replayed submission).
    error ConsentsAlreadyGranted(bytes32 id);
    /// @dev No consent `id`.
    error ConsentsUnknown(bytes32 id);
    /// @dev Consent `id` was already revoked.
    error ConsentsAlreadyRevoked(bytes32 id);
    /// @dev The subject's signature is missing, invalid, or given although the terms name no subject key.
    error ConsentsInvalidSubjectSignature(address subjectSigner);
    /// @dev `department` records a consent in its own favour over `resource`, which it does not own, without the
    ///      subject's signature (review finding "self-granted consent").
    error ConsentsRecorderIsGrantee(bytes32 department, bytes32 resource);
    /// @dev The grantee `grantee` is not a registered department.
    error ConsentsUnknownGrantee(bytes32 grantee);
    /// @dev `signature` is not a valid EIP-712 `RegulatorRevocation` signature by `regulator` for this consent and reason.
    error ConsentsInvalidRegulatorSignature(address regulator);
    /// @dev The terms of consent `id` were cancelled before any grant: they can no longer be granted.
    error ConsentsCancelled(bytes32 id);

    /// @notice Consent `id` was granted; the event carries the full terms so state can be rebuilt off chain, and
    ///         the key that signed for the recording department (the subject's key, if any, is in the terms).
    event ConsentGranted(bytes32 indexed id, bytes32 indexed subject, ConsentTerms terms, address recorderSigner);
    /// @notice Consent `id` was revoked by `by` (the recorder's signer, the subject's key or a regulator's key).
    event ConsentRevoked(bytes32 indexed id, address by);
    /// @notice A key holding the regulator role, `regulator`, revoked consent `id` for the reason hashed in `reasonHash`
    ///         (emitted right after its `ConsentRevoked`).
    event ConsentRevokedByRegulator(bytes32 indexed id, bytes32 reasonHash, address regulator);
    /// @notice The terms of consent `id` were cancelled before any grant, by `by` (a recorder's signer or the subject's key).
    event ConsentCancelled(bytes32 indexed id, address by);
}

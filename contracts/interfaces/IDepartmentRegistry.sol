// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title Department registry: who is who in dcl
/// @notice Departments at five levels of government, each with a small set of signer keys that can
///         be rotated, and the platform-wide roles (governor, regulator, exchange).
interface IDepartmentRegistry {
    /// @notice Level of government a department belongs to.
    enum Level {
        National,
        City,
        District,
        Town,
        Village
    }

    /// @notice A registered department.
    struct Department {
        Level level; // level of government
        bool active; // an inactive department's signers cannot act
        uint8 signerCount; // number of current signer keys
        uint8 threshold; // k: signatures of current signers needed to change its keys or threshold (1..signerCount)
        uint32 changeNonce; // signer changes so far: the nonce of the next signed SignerChange
        bytes32 parent; // the department above it (zero for a root)
    }

    /// @notice What a department's k signers sign to change its keys (EIP-712 type `SignerChange`).
    enum SignerAction {
        Add, // add `signer`
        Remove, // remove `signer`
        SetThreshold // set the threshold to `threshold`
    }

    /// @notice One change of a department's keys, signed by k of its current signers.
    struct SignerChange {
        bytes32 department;
        SignerAction action;
        address signer; // the key added or removed (zero for SetThreshold)
        uint8 threshold; // the new threshold (SetThreshold), else the threshold it keeps (checked)
        uint32 nonce; // the department's changeNonce
    }

    /// @notice A governor's recovery of a department that lost its keys: delayed, visible, vetoable by any of its keys.
    struct Recovery {
        bytes32 hash; // keccak256(abi.encode(add, remove, threshold))
        uint64 executableAt; // earliest time of execution (proposal + RECOVERY_DELAY)
    }

    /// @notice A key's signature, for one department.
    struct KeySignature {
        address signer;
        bytes signature; // 65-byte ECDSA, or EIP-1271 for a contract wallet
    }

    /// @notice The other contracts of this deployment, recorded once by the registry's deployer, so that
    ///         one pinned registry address identifies a whole deployment (a verifier's trust root).
    struct Deployment {
        address catalog;
        address anchors;
        address agreements;
        address consents;
        address transfers;
    }

    /// @dev The deployment is already recorded, or the caller is not the registry's deployer.
    error RegistryDeploymentLocked(address caller);
    /// @dev `contract_` has no code or does not name this registry as its own.
    error RegistryDeploymentInvalid(address contract_);
    /// @dev `id` is zero or already registered.
    error RegistryInvalidDepartmentId(bytes32 id);
    /// @dev `id` is not a registered department.
    error RegistryUnknownDepartment(bytes32 id);
    /// @dev `signer` is the zero address, or already a signer of `id` (on add), or not one (on remove).
    error RegistryInvalidSigner(bytes32 id, address signer);
    /// @dev Adding a signer would exceed the per-department maximum.
    error RegistryTooManySigners(bytes32 id, uint256 max);
    /// @dev Removing `signer` would leave `id` with no signer at all.
    error RegistryLastSigner(bytes32 id, address signer);
    /// @dev `account` is not a current signer of `id`.
    error RegistryUnauthorized(bytes32 id, address account);
    /// @dev The change needs `needed` signatures of distinct current signers of `id`; `given` valid ones came.
    error RegistryThresholdNotMet(bytes32 id, uint256 given, uint256 needed);
    /// @dev `threshold` is not within 1..signer count (`signerCount`) of `id`.
    error RegistryInvalidThreshold(bytes32 id, uint256 threshold, uint256 signerCount);
    /// @dev A signature is not by a current signer of `id`, or signers are not in ascending order (each counted once).
    error RegistryInvalidSignature(bytes32 id, address signer);
    /// @dev The change's nonce is not `id`'s changeNonce (`expected`), or its department is not `id`.
    error RegistryStaleChange(bytes32 id, uint32 expected);
    /// @dev No recovery of `id` is pending, or the one given is not the one proposed.
    error RegistryNoRecovery(bytes32 id);
    /// @dev The recovery of `id` may run only from `executableAt`.
    error RegistryRecoveryNotReady(bytes32 id, uint64 executableAt);

    /// @notice A department was registered with its first signers.
    event DepartmentRegistered(bytes32 indexed id, Level level, bytes32 indexed parent, address[] signers);
    /// @notice A department was activated or deactivated.
    event DepartmentActiveSet(bytes32 indexed id, bool active);
    /// @notice `signer` may now act for department `id`.
    event SignerAdded(bytes32 indexed id, address indexed signer, address by);
    /// @notice `signer` may no longer act for department `id`.
    event SignerRemoved(bytes32 indexed id, address indexed signer, address by);

    /// @notice `id` now needs `threshold` signatures of its signers to change its keys.
    event ThresholdSet(bytes32 indexed id, uint8 threshold);
    /// @notice The governor proposed to recover `id`: from `executableAt`, remove `remove`, add `add`, set `threshold`.
    event RecoveryProposed(bytes32 indexed id, address[] add, address[] remove, uint8 threshold, uint64 executableAt, address by);
    /// @notice A signer of `id` vetoed its pending recovery.
    event RecoveryVetoed(bytes32 indexed id, address signer);
    /// @notice The recovery of `id` ran.
    event RecoveryExecuted(bytes32 indexed id, address by);
    /// @notice The deployment's other contracts were recorded.
    event DeploymentRecorded(Deployment deployment);

    /// @notice True when `account` is a current signer of the active department `id`.
    function isSigner(bytes32 id, address account) external view returns (bool);

    /// @notice True when `id` is a registered department (active or not).
    function exists(bytes32 id) external view returns (bool);

    /// @notice True when `account` holds `role` (GOVERNOR_ROLE, REGULATOR_ROLE, EXCHANGE_ROLE, …).
    function hasRole(bytes32 role, address account) external view returns (bool);
}

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
        bytes32 parent; // the department above it (zero for a root)
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
    /// @dev `account` is neither the governor nor a current signer of `id`.
    error RegistryUnauthorized(bytes32 id, address account);

    /// @notice A department was registered with its first signers.
    event DepartmentRegistered(bytes32 indexed id, Level level, bytes32 indexed parent, address[] signers);
    /// @notice A department was activated or deactivated.
    event DepartmentActiveSet(bytes32 indexed id, bool active);
    /// @notice `signer` may now act for department `id`.
    event SignerAdded(bytes32 indexed id, address indexed signer, address by);
    /// @notice `signer` may no longer act for department `id`.
    event SignerRemoved(bytes32 indexed id, address indexed signer, address by);

    /// @notice The deployment's other contracts were recorded.
    event DeploymentRecorded(Deployment deployment);

    /// @notice True when `account` is a current signer of the active department `id`.
    function isSigner(bytes32 id, address account) external view returns (bool);

    /// @notice True when `id` is a registered department (active or not).
    function exists(bytes32 id) external view returns (bool);

    /// @notice True when `account` holds `role` (GOVERNOR_ROLE, REGULATOR_ROLE, EXCHANGE_ROLE, …).
    function hasRole(bytes32 role, address account) external view returns (bool);
}

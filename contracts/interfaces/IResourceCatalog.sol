// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title Resource catalog: what data exists, who owns it and whether it may be shared
interface IResourceCatalog {
    /// @notice Sharing condition of a resource, as in the catalog standard.
    enum SharingCondition {
        Unconditional,
        Conditional,
        NotShareable
    }

    /// @notice A catalogued data resource.
    struct Resource {
        bytes32 owner; // owning (providing) department
        bytes32 schemaHash; // hash of the resource's schema document
        SharingCondition condition; // whether and how it may be shared
        bool personal; // holds personal information: every use needs a valid consent
        uint32 version; // 1 on registration, +1 on each update
    }

    /// @dev `id` is zero or already catalogued.
    error CatalogInvalidResourceId(bytes32 id);
    /// @dev `id` is not catalogued.
    error CatalogUnknownResource(bytes32 id);
    /// @dev `owner` is not a registered department.
    error CatalogUnknownOwner(bytes32 owner);
    /// @dev `account` is neither the governor nor a current signer of the owner `owner`.
    error CatalogUnauthorized(bytes32 owner, address account);

    /// @notice Resource `id` was catalogued (version 1).
    event ResourceRegistered(
        bytes32 indexed id,
        bytes32 indexed owner,
        bytes32 schemaHash,
        SharingCondition condition,
        bool personal
    );
    /// @notice Resource `id` changed; `version` is its new version.
    event ResourceUpdated(
        bytes32 indexed id,
        bytes32 schemaHash,
        SharingCondition condition,
        bool personal,
        uint32 version
    );

    /// @notice The resource `id` (reverts if unknown).
    function resource(bytes32 id) external view returns (Resource memory);
}

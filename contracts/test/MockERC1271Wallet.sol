// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IERC1271} from "@openzeppelin/contracts/interfaces/IERC1271.sol";

/// @notice Test-only contract wallet (EIP-1271): its owner approves digests, and it vouches for exactly those.
contract MockERC1271Wallet is IERC1271 {
    /// @dev `account` is not the wallet's owner.
    error MockERC1271WalletNotOwner(address account);

    address private immutable _owner;
    mapping(bytes32 digest => bool approved) private _approved;

    constructor(address owner_) {
        _owner = owner_;
    }

    /// @notice The owner approves `digest`, as a multisig would after collecting its signatures.
    function approve(bytes32 digest) external {
        if (msg.sender != _owner) revert MockERC1271WalletNotOwner(msg.sender);
        _approved[digest] = true;
    }

    /// @inheritdoc IERC1271
    function isValidSignature(bytes32 digest, bytes calldata) external view returns (bytes4) {
        return _approved[digest] ? IERC1271.isValidSignature.selector : bytes4(0xffffffff);
    }
}

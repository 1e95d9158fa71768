// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {EnumerableSet} from "@openzeppelin/contracts/utils/structs/EnumerableSet.sol";
import {Address} from "@openzeppelin/contracts/utils/Address.sol";

/// @title Governance council: m of n members' signatures for every governance act
/// @notice Holds the registry's GOVERNOR and admin roles in a real deployment, so that registering
///         departments, granting roles, registering and retiring logs and cataloguing on a department's
///         behalf each need m of the council's n members (EIP-712 `CouncilCall`, relayed by anyone). The
///         council changes itself the same way (a call to `setMembers` on itself). It cannot act as a
///         department: the registry refuses the governor any change of a department's keys, except a
///         recovery that waits in public and that the department's keys can veto.
///         Borrowed from OpenZeppelin: EIP712 (domain, typed-data hashing), SignatureChecker (EOA and
///         EIP-1271 members), EnumerableSet (members), Address (call with the callee's revert bubbled).
///         The embedded default needs none of this: its governor is the node's one key, a council of one.
contract GovernanceCouncil is EIP712 {
    using EnumerableSet for EnumerableSet.AddressSet;

    /// @notice EIP-712 type hash of one call the council makes; `data` is hashed as EIP-712 `bytes`.
    bytes32 public constant COUNCIL_CALL_TYPEHASH = keccak256("CouncilCall(address target,bytes data,uint64 nonce)");
    /// @notice A council has at most this many members.
    uint256 public constant MAX_MEMBERS = 32;

    /// @notice A member's signature.
    struct MemberSignature {
        address signer;
        bytes signature;
    }

    EnumerableSet.AddressSet private _members;
    uint8 private _threshold;
    uint64 private _nonce;

    /// @dev `threshold` is not within 1..members, there are no or too many members, or one is zero or repeated.
    error CouncilInvalidMembers(uint256 members, uint8 threshold);
    /// @dev The call needs `needed` signatures of distinct members; `given` came.
    error CouncilThresholdNotMet(uint256 given, uint256 needed);
    /// @dev A signature is not by a member, or signers are not in strictly ascending order (each counted once).
    error CouncilInvalidSignature(address signer);
    /// @dev Only the council itself (through `execute`) may change its members.
    error CouncilOnlySelf(address caller);

    /// @notice The council made call number `nonce`.
    event CouncilExecuted(uint64 indexed nonce, address indexed target, bytes data);
    /// @notice The council's members and threshold are now these.
    event CouncilMembersSet(address[] members, uint8 threshold);

    constructor(address[] memory members, uint8 threshold) EIP712("dcl GovernanceCouncil", "1") {
        _setMembers(members, threshold);
    }

    /// @notice Makes the call `data` to `target` on the EIP-712 signatures of at least `threshold` distinct
    ///         members over `CouncilCall(target, data, nonce)`, signers in ascending order; anyone may submit.
    function execute(
        address target,
        bytes calldata data,
        MemberSignature[] calldata signatures
    ) external returns (bytes memory result) {
        uint64 nonce = _nonce;
        bytes32 digest = _hashTypedDataV4(keccak256(abi.encode(COUNCIL_CALL_TYPEHASH, target, keccak256(data), nonce)));
        address last;
        for (uint256 i = 0; i < signatures.length; ++i) {
            address signer = signatures[i].signer;
            if (
                signer <= last ||
                !_members.contains(signer) ||
                !SignatureChecker.isValidSignatureNow(signer, digest, signatures[i].signature)
            ) revert CouncilInvalidSignature(signer);
            last = signer;
        }
        if (signatures.length < _threshold) revert CouncilThresholdNotMet(signatures.length, _threshold);
        _nonce = nonce + 1;
        emit CouncilExecuted(nonce, target, data);
        result = Address.functionCall(target, data);
    }

    /// @notice Replaces the members and threshold; only by the council itself, through `execute`.
    function setMembers(address[] calldata members, uint8 threshold) external {
        if (msg.sender != address(this)) revert CouncilOnlySelf(msg.sender);
        _setMembers(members, threshold);
    }

    /// @notice The members.
    function members() external view returns (address[] memory) {
        return _members.values();
    }

    /// @notice m: signatures of distinct members each call needs.
    function threshold() external view returns (uint8) {
        return _threshold;
    }

    /// @notice The nonce the next call is signed with.
    function nonce() external view returns (uint64) {
        return _nonce;
    }

    /// @notice EIP-712 struct hash of a call, as members sign it.
    function hashCall(address target, bytes calldata data, uint64 callNonce) external pure returns (bytes32) {
        return keccak256(abi.encode(COUNCIL_CALL_TYPEHASH, target, keccak256(data), callNonce));
    }

    /// @notice The EIP-712 domain separator of this contract.
    function domainSeparator() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    function _setMembers(address[] memory members_, uint8 threshold_) private {
        if (members_.length == 0 || members_.length > MAX_MEMBERS || threshold_ == 0 || threshold_ > members_.length) {
            revert CouncilInvalidMembers(members_.length, threshold_);
        }
        address[] memory old = _members.values();
        for (uint256 i = 0; i < old.length; ++i) _members.remove(old[i]);
        for (uint256 i = 0; i < members_.length; ++i) {
            if (members_[i] == address(0) || !_members.add(members_[i])) revert CouncilInvalidMembers(members_.length, threshold_);
        }
        _threshold = threshold_;
        emit CouncilMembersSet(members_, threshold_);
    }
}

/** A dcl deployment on a separately started anvil node, for the integration tests. */
import { JsonRpcProvider, Network, type JsonRpcSigner } from "ethers";
import { Anvil, type AnvilOptions } from "../../node/chain/anvil";
import { addressesOf, deployDcl, type DclAddresses, type DclContracts } from "../../node/chain/deploy";

export interface AnvilDeployment {
  anvil: Anvil;
  provider: JsonRpcProvider;
  /** anvil's unlocked dev accounts: [0] deploys, [1] governs. */
  accounts: JsonRpcSigner[];
  contracts: DclContracts;
  addresses: DclAddresses;
  deployBlock: number;
}

/** Starts anvil and deploys dcl on it with dev account 1 as governor. */
export async function startAnvilDeployment(options: AnvilOptions = {}): Promise<AnvilDeployment> {
  const anvil = await Anvil.start(options);
  const provider = new JsonRpcProvider(anvil.url, Network.from(options.chainId ?? 31337), {
    staticNetwork: true,
    pollingInterval: 50,
    cacheTimeout: -1,
  });
  const accounts = await Promise.all([0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map((i) => provider.getSigner(i)));
  const deployBlock = (await provider.getBlockNumber()) + 1;
  const contracts = await deployDcl(accounts[0], accounts[1].address);
  return { anvil, provider, accounts, contracts, addresses: await addressesOf(contracts), deployBlock };
}

/** Mines `n` empty blocks. */
export async function mine(provider: JsonRpcProvider, n = 1): Promise<void> {
  for (let i = 0; i < n; i++) await provider.send("evm_mine", []);
}

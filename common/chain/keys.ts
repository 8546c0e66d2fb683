/**
 * A user's key (a prover operator's or a requester's), from an encrypted JSON keystore (password in
 * PM_KEYSTORE_PASSWORD) or PM_PRIVATE_KEY. The key is never printed or logged; errors name where it was looked
 * for, not what it is.
 */
import { readFileSync } from "node:fs";
import { Wallet } from "ethers";

/** A key that cannot be loaded: the message says what to set. */
export class KeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "KeyError";
  }
}

export async function loadWallet(keystore: string | undefined, env: NodeJS.ProcessEnv = process.env): Promise<Wallet> {
  if (keystore !== undefined) {
    const password = env.PM_KEYSTORE_PASSWORD;
    if (password === undefined) throw new KeyError(`keystore ${keystore} needs its password in PM_KEYSTORE_PASSWORD`);
    let json: string;
    try {
      json = readFileSync(keystore, "utf8");
    } catch (e) {
      throw new KeyError(`cannot read keystore ${keystore}: ${(e as Error).message}`);
    }
    try {
      return (await Wallet.fromEncryptedJson(json, password)) as Wallet;
    } catch {
      throw new KeyError(`cannot decrypt keystore ${keystore}: wrong password or not an ethers JSON keystore`);
    }
  }
  const key = env.PM_PRIVATE_KEY;
  if (key === undefined)
    throw new KeyError("no key: set PM_PRIVATE_KEY, or `keystore` in the config with PM_KEYSTORE_PASSWORD");
  try {
    return new Wallet(key);
  } catch {
    throw new KeyError("PM_PRIVATE_KEY is not a valid 32-byte hex private key");
  }
}

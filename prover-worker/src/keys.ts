/**
 * The operator's key, from an encrypted JSON keystore (password in PM_KEYSTORE_PASSWORD) or PM_PRIVATE_KEY.
 * The key is never printed or logged; errors name where it was looked for, not what it is.
 */
import { readFileSync } from "node:fs";
import { Wallet } from "ethers";
import { ConfigError } from "./config.ts";

export async function loadWallet(keystore: string | undefined, env: NodeJS.ProcessEnv = process.env): Promise<Wallet> {
  if (keystore !== undefined) {
    const password = env.PM_KEYSTORE_PASSWORD;
    if (password === undefined)
      throw new ConfigError(`keystore ${keystore} needs its password in PM_KEYSTORE_PASSWORD`);
    let json: string;
    try {
      json = readFileSync(keystore, "utf8");
    } catch (e) {
      throw new ConfigError(`cannot read keystore ${keystore}: ${(e as Error).message}`);
    }
    try {
      return (await Wallet.fromEncryptedJson(json, password)) as Wallet;
    } catch {
      throw new ConfigError(`cannot decrypt keystore ${keystore}: wrong password or not an ethers JSON keystore`);
    }
  }
  const key = env.PM_PRIVATE_KEY;
  if (key === undefined)
    throw new ConfigError("no key: set PM_PRIVATE_KEY, or `keystore` in the config with PM_KEYSTORE_PASSWORD");
  try {
    return new Wallet(key);
  } catch {
    throw new ConfigError("PM_PRIVATE_KEY is not a valid 32-byte hex private key");
  }
}

/**
 * Which network addresses a job's inputs URI may lead the worker to. Whoever posts a job chooses that URI, so a
 * worker that fetched anything would let a stranger aim it at its own machine, its private network or its cloud's
 * metadata service. Only public unicast addresses pass by default; loopback and private networks each have a
 * config switch (a devnet serves inputs from 127.0.0.1); link-local (cloud metadata), unspecified, multicast and
 * reserved addresses never pass. IPv6 forms that carry an IPv4 address (::ffff:127.0.0.1, NAT64, 6to4) are judged
 * by the IPv4 address they lead to.
 */
import { BlockList, isIP } from "node:net";

/** The worker config's switches (inputsFetch.*) that let non-public addresses through. */
export interface AddressPermissions {
  allowLoopback: boolean;
  allowPrivateNetworks: boolean;
}

export interface AddressVerdict {
  allowed: boolean;
  /** What the address is, for messages: "a loopback address", "a public address", ... */
  description: string;
  /** The switch that lets this kind of address through; absent for public addresses and for what nothing allows. */
  allowedBy?: keyof AddressPermissions;
}

type Subnet = [network: string, prefix: number];

/** Checked in order: the first kind an address falls in decides (metadata before the private range holding it). */
const KINDS: { description: string; allowedBy?: keyof AddressPermissions; ipv4: Subnet[]; ipv6: Subnet[] }[] = [
  {
    description: "a cloud metadata service address",
    ipv4: [
      ["169.254.169.254", 32],
      ["100.100.100.200", 32],
    ],
    ipv6: [["fd00:ec2::254", 128]],
  },
  { description: "a loopback address", allowedBy: "allowLoopback", ipv4: [["127.0.0.0", 8]], ipv6: [["::1", 128]] },
  {
    description: "a private-network address",
    allowedBy: "allowPrivateNetworks",
    ipv4: [
      ["10.0.0.0", 8],
      ["172.16.0.0", 12],
      ["192.168.0.0", 16],
    ],
    ipv6: [
      ["fc00::", 7],
      ["fec0::", 10],
    ],
  },
  {
    description: "a carrier-grade NAT (shared) address",
    allowedBy: "allowPrivateNetworks",
    ipv4: [["100.64.0.0", 10]],
    ipv6: [],
  },
  { description: "a link-local address", ipv4: [["169.254.0.0", 16]], ipv6: [["fe80::", 10]] },
  { description: "an unspecified (this-network) address", ipv4: [["0.0.0.0", 8]], ipv6: [["::", 128]] },
  { description: "a multicast address", ipv4: [["224.0.0.0", 4]], ipv6: [["ff00::", 8]] },
  {
    description: "a reserved address",
    ipv4: [
      ["192.0.0.0", 24],
      ["192.0.2.0", 24],
      ["192.88.99.0", 24],
      ["198.18.0.0", 15],
      ["198.51.100.0", 24],
      ["203.0.113.0", 24],
      ["240.0.0.0", 4],
    ],
    ipv6: [
      ["::", 96],
      ["64:ff9b:1::", 48],
      ["100::", 64],
      ["2001::", 32],
      ["2001:db8::", 32],
    ],
  },
];

const LISTS = KINDS.map((kind) => {
  const list = new BlockList();
  for (const [network, prefix] of kind.ipv4) list.addSubnet(network, prefix, "ipv4");
  for (const [network, prefix] of kind.ipv6) list.addSubnet(network, prefix, "ipv6");
  return { ...kind, list };
});

/** IPv6 unicast outside 2000::/3 is not routed on the internet. */
const GLOBAL_UNICAST = new BlockList();
GLOBAL_UNICAST.addSubnet("2000::", 3, "ipv6");

/** An address in the form the URL parser prints (no brackets, no zone, IPv6 compressed and in hex); null if none. */
function canonical(address: string): { address: string; family: 4 | 6 } | null {
  const bare = address.replace(/^\[(.*)\]$/, "$1").replace(/%.*$/, "");
  const family = isIP(bare);
  if (family === 4) return { address: new URL(`http://${bare}/`).hostname, family };
  if (family === 6) return { address: new URL(`http://[${bare}]/`).hostname.slice(1, -1), family };
  return null;
}

/** The eight 16-bit words of a canonical IPv6 address. */
function ipv6Words(address: string): number[] {
  const words = (part: string) => (part === "" ? [] : part.split(":").map((w) => parseInt(w, 16)));
  const [head, tail] = address.split("::");
  const before = words(head);
  const after = tail === undefined ? [] : words(tail);
  return [...before, ...new Array<number>(8 - before.length - after.length).fill(0), ...after];
}

/** The IPv4 address an IPv6 one leads to: IPv4-mapped (::ffff:a.b.c.d), NAT64 (64:ff9b::/96) or 6to4 (2002::/16). */
function embeddedIPv4(address: string): string | null {
  const w = ipv6Words(address);
  const dotted = (hi: number, lo: number) => `${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`;
  if (w.slice(0, 5).every((x) => x === 0) && w[5] === 0xffff) return dotted(w[6], w[7]);
  if (w[0] === 0x64 && w[1] === 0xff9b && w.slice(2, 6).every((x) => x === 0)) return dotted(w[6], w[7]);
  if (w[0] === 0x2002) return dotted(w[1], w[2]);
  return null;
}

/** Whether the worker may connect to `address` (an IP literal) under these permissions, and what the address is. */
export function judgeAddress(address: string, permissions: AddressPermissions): AddressVerdict {
  const ip = canonical(address);
  if (ip === null) return { allowed: false, description: "not an IP address" };
  if (ip.family === 6) {
    const inner = embeddedIPv4(ip.address);
    if (inner !== null) {
      const verdict = judgeAddress(inner, permissions);
      return { ...verdict, description: `${verdict.description} (${inner} inside an IPv6 address)` };
    }
  }
  const type = ip.family === 4 ? "ipv4" : "ipv6";
  const kind = LISTS.find((k) => k.list.check(ip.address, type));
  if (kind !== undefined) {
    const allowed = kind.allowedBy !== undefined && permissions[kind.allowedBy];
    return { allowed, description: kind.description, ...(kind.allowedBy && { allowedBy: kind.allowedBy }) };
  }
  if (ip.family === 6 && !GLOBAL_UNICAST.check(ip.address, "ipv6"))
    return { allowed: false, description: "a reserved address" };
  return { allowed: true, description: "a public address" };
}

/** Whether a URL points at this machine (localhost or a loopback address), e.g. the RPC URL of a local devnet. */
export function isLoopbackURL(url: string): boolean {
  let hostname: string;
  try {
    hostname = new URL(url).hostname;
  } catch {
    return false;
  }
  if (hostname === "localhost" || hostname.endsWith(".localhost")) return true;
  return judgeAddress(hostname, { allowLoopback: false, allowPrivateNetworks: false }).allowedBy === "allowLoopback";
}

// Host key fingerprints. The AegirServer spec pins OpenSSH's form (`SHA256:` + unpadded base64,
// what `ssh-keygen -lf` prints); ssh2 with `hostHash: 'sha256'` hands the verifier lowercase hex
// of the same digest, so the pin is converted once and compared as hex.
import { createHash } from "node:crypto";

const OPENSSH_SHA256 = /^SHA256:([A-Za-z0-9+/]{43})$/;

/** The lowercase hex SHA-256 digest an OpenSSH `SHA256:...` fingerprint stands for. */
export function fingerprintToHex(fingerprint: string): string {
  const match = OPENSSH_SHA256.exec(fingerprint);
  if (!match) throw new TypeError("host key fingerprint must look like SHA256:<43 base64 characters> (ssh-keygen -lf)");
  const hex = Buffer.from(match[1] as string, "base64").toString("hex");
  if (hex.length !== 64) throw new TypeError("host key fingerprint is not a SHA-256 digest");
  return hex;
}

/** The OpenSSH form of a hex SHA-256 digest (what ssh2's hostVerifier receives). */
export function hexToFingerprint(hex: string): string {
  return `SHA256:${Buffer.from(hex, "hex").toString("base64").replace(/=+$/, "")}`;
}

/** OpenSSH's fingerprint of a raw public key blob (the base64 field of an authorized_keys line). */
export function fingerprintOfKey(blob: Buffer): string {
  return hexToFingerprint(createHash("sha256").update(blob).digest("hex"));
}

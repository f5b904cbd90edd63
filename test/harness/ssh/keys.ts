// Fresh ed25519 key pairs in OpenSSH formats, for test servers (host keys) and clients.
import ssh2 from "ssh2";
import { fingerprintOfKey } from "../../../reconcilers/aegir/ssh/fingerprint.ts";

export interface KeyPair {
  /** `-----BEGIN OPENSSH PRIVATE KEY-----` text, encrypted when a passphrase was given. */
  privateKey: string;
  /** One authorized_keys line: `ssh-ed25519 <base64> <comment>`. */
  publicKey: string;
  /** OpenSSH fingerprint of the public key, `SHA256:<unpadded base64>`. */
  fingerprint: string;
}

export function generateKeyPair(options: { passphrase?: string; comment?: string } = {}): KeyPair {
  const comment = options.comment ?? "aegir-operator-test";
  for (;;) {
    const pair =
      options.passphrase === undefined
        ? ssh2.utils.generateKeyPairSync("ed25519", { comment })
        : ssh2.utils.generateKeyPairSync("ed25519", { comment, passphrase: options.passphrase, cipher: "aes256-ctr" });
    // ssh2 drops a leading zero byte of the public key (about 1 key in 160), which leaves a
    // 31-byte key that neither ssh2 nor OpenSSH accepts: draw again.
    if (ssh2.utils.parseKey(pair.public) instanceof Error) continue;
    return { privateKey: pair.private, publicKey: pair.public, fingerprint: publicKeyFingerprint(pair.public) };
  }
}

/** Fingerprint of an authorized_keys line. */
export function publicKeyFingerprint(line: string): string {
  const blob = line.trim().split(/\s+/)[1];
  if (blob === undefined) throw new TypeError("not an OpenSSH public key line");
  return fingerprintOfKey(Buffer.from(blob, "base64"));
}

// Package credential issues the per-request secrets of a grant: a generated
// password, the SCRAM-SHA-256 verifier PostgreSQL stores instead of it, and
// the age encryption that makes the plaintext readable only by the
// requester's SSH keys.
//
// The controller generates the password (NewPassword), passes only its
// verifier (SCRAMVerifier) to terraform, so no plaintext reaches terraform
// state, and, once the apply succeeded, delivers a Payload (the password and
// the template's connection settings, as JSON) encrypted to the requester's
// SSH public keys (Encrypt). The requester decrypts it with their SSH private
// key (Decrypt) and reads it with ParsePayload.
//
// The package is an edge of the crypto kind only: no network, no files, no
// clock; callers pass keys and bytes in.
package credential

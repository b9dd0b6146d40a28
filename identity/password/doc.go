// Package password implements the password requirements of IAM-3: argon2id
// hashing, the composition and reuse policy with expiry, a blocklist of
// common and breached passwords shipped with the binary, an optional
// Have I Been Pwned range check, and throttling of sign-in attempts.
//
// # Hashing
//
// Passwords are hashed with argon2id at m=19 MiB, t=2, p=1, a 16-byte random
// salt and a 32-byte key: the first of the OWASP Password Storage Cheat
// Sheet's equivalent argon2id configurations. A stronger memory setting
// (46 MiB) was rejected because the server targets at most 100 MB RSS and
// every concurrent hash holds its whole memory cost: with 19 MiB, the
// default budget of 64 MiB admits three hashes at a time. Hashes are stored
// as PHC strings ($argon2id$v=19$m=19456,t=2,p=1$salt$key, unpadded
// standard base64), the format of the reference implementation's CLI.
//
// A Hasher bounds concurrent hash computations and the queue waiting for
// them, so a guessing storm costs a bounded amount of CPU and memory and is
// answered with ERATELIMIT instead of starving the data plane. Equalize
// spends the work of one verification for a sign-in on an unknown account,
// so response time does not reveal whether an account exists.
//
// # Policy
//
// Policy holds the rules with their floors (see Policy). Checker.Check
// reports every violated rule at once, both as one EINVALID message and as a
// list of Violation values for user interfaces.
//
// # Blocklist
//
// Blocklist holds 49,232 common passwords taken from the npm package
// @zxcvbn-ts/language-common (MIT); the embedded file records its provenance
// and internal/genblocklist regenerates it. See Blocklist.Contains for what
// is matched.
//
// # Throttling
//
// Throttle slows and then locks out repeated failures per account name and
// per client address, identically for accounts that do not exist, and flags
// lockouts and password spraying as security events.
//
// docs/security/passwords.md describes the choices for operators.
package password

// Package recovery makes and checks MFA recovery codes (IAM-4): single-use
// codes a user writes down at enrolment and types when the authenticator app
// or security key is lost, so that losing a device does not mean an account
// reset by staff.
//
// A code is 80 random bits written as 16 characters of Crockford's base32
// alphabet in groups of four, such as "7m2k-q9xd-0a4e-hv3t". The alphabet has
// no I, L, O or U; on input, case, dashes and white space are ignored, and
// o, i and l are read as 0, 1 and 1, so a code copied by hand still works.
//
// Codes are shown once and stored only as hashes. Each stored hash is
// SHA-256 over a random 128-bit salt and the normalised code. A slow
// password hash (argon2id) buys nothing here: guessing one code of 80
// uniformly random bits offline takes about 2^80 hashes, out of reach
// whatever the hash costs, while argon2id would make every login attempt
// expensive for the server. The per-hash salt stops an attacker with a leaked
// database from testing each guess against every user's codes at once, which
// with millions of stored codes would cut the work by that factor; no server
// key is involved, so restoring a backup on another deployment keeps the
// codes working. Hashes are compared in constant time.
//
// Match returns the index of the hash that matched so that the caller can
// mark that code used — by setting it to nil or deleting it, atomically with
// the login it allows (a conditional update, as for TOTP steps) — and must
// count a failed match towards the same throttling and lockout as any other
// failed second factor.
package recovery

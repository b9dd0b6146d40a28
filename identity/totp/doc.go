// Package totp implements time-based one-time passwords (RFC 6238, built on
// HOTP, RFC 4226), the authenticator-app half of multi-factor authentication
// (IAM-4; the security-key half is WebAuthn).
//
// The parameters are the ones every authenticator app supports: a 160-bit
// secret, HMAC-SHA1, 6 digits, a 30-second period. SHA-1 is not a weakness
// here: HOTP needs HMAC to be a PRF, which HMAC-SHA1 still is, and apps that
// claim SHA-256 support often silently fall back to SHA-1.
//
// Enrolment: NewSecret makes the secret, KeyURI builds the otpauth:// URI an
// app imports, EncodeQR turns it into a QR code rendered as SVG (or PNG), and
// EncodeSecret shows the secret for manual entry. The device is enrolled only
// once the user proves possession with a first code.
//
// Verification: a Verifier accepts the code of the current 30-second step and
// of up to Skew steps either side (default 1, at most 2), compares in constant
// time, and refuses replays. Verify takes the last time step accepted for the
// device and returns the step it matched; a code whose step is not after the
// last accepted step is refused, so each code works at most once. The caller
// must persist the returned step atomically with the login it allows, as a
// compare-and-set such as
//
//	UPDATE mfa_totp SET last_step = $step WHERE id = $id AND last_step < $step
//
// and treat "no row updated" as a replay: two concurrent requests carrying
// the same code both pass Verify with the same last step, and only the
// conditional update tells them apart.
//
// A 6-digit code can be guessed with probability about (2*Skew+1)/10^6 per
// try; callers must throttle and lock out failed attempts, counting EINVALID
// answers as failures too.
//
// The secret is a credential: store it encrypted under the tenant's keys
// (ENC-3), never log it, and delete it when the device is removed (IAM-8).
//
// QR codes come from rsc.io/qr (BSD licence, no dependencies, a few hundred
// lines, written by a Go team member): it exposes the module grid, from which
// this package draws a script-free SVG, and encodes a PNG for free. The
// alternative, github.com/skip2/go-qrcode (MIT), picks a better mask but has
// no tagged release and a larger surface; a fixed mask only makes the code a
// little less robust to damage, which does not matter on a screen.
package totp

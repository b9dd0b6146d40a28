// Package hsm keeps rempart's root key in a PKCS#11 hardware security module
// (ENC-3): a keys.RootKeys whose versions are AES-256 keys generated inside
// the HSM, never extractable, used through the module's AES-GCM.
//
// # Configuration
//
// A source is named by an RFC 7512 PKCS#11 URI:
//
//	pkcs11:token=rempart;object=rempart-root?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=file:/etc/rempart/hsm.pin
//
// Path attributes (";"-separated): token (the token label, required),
// object (the label prefix of the key versions, required), and optionally
// serial, manufacturer, model and slot-id to pick one of several tokens with
// the same label, and type=secret-key. Query attributes ("&"-separated):
// module-path (the vendor's PKCS#11 library, required), pin-source
// (file:<absolute path> of a file holding the user PIN, which others must
// not be able to read), or pin-value (the PIN itself: for tests only, since
// the URI then holds a secret), and x-max-sessions (sessions kept open for
// concurrent use, default 8). Values are percent-encoded. Errors never
// contain the PIN.
//
// # Key versions
//
// Version n is a secret key object labelled <object>-n on the token,
// generated there with CKM_AES_KEY_GEN (CKA_VALUE_LEN 32) as a private,
// sensitive, non-extractable token object that may only encrypt and decrypt.
// Its KeyID is "pkcs11:<token>/<object>-n", for example
// "pkcs11:rempart/rempart-root-3". Versions lists the KeyIDs on the token,
// oldest first, for rotation to find what it may destroy. A data object
// labelled <object>-last records the highest version made, so a number is
// never reused after its key was destroyed. Open and Latest refuse a key that is extractable or not
// sensitive, such as one an operator imported by hand under that label.
// Create is meant to run on one node at a time (rotation is coordinated
// through the database); a clash between nodes is detected and retried.
//
// # Wrapping
//
// Wrap runs CKM_AES_GCM inside the HSM with a fresh random 96-bit IV and the
// associated data as GCM AAD, and returns IV ‖ ciphertext ‖ 128-bit tag.
// Unwrap fails with keys.ErrDecrypt if the blob or associated data was
// altered or the version is another one. The key never leaves the HSM.
//
// # Sessions
//
// PKCS#11 sessions are not safe for concurrent use: a Source keeps a bounded
// pool of sessions on the logged-in token, and Wrap and Unwrap take one for
// the length of a call, so they are safe from many goroutines. Close waits
// for calls in flight, closes the sessions, logs out and finalises the module
// once no other Source in the process uses it.
//
// # Building
//
// The PKCS#11 binding (github.com/miekg/pkcs11) needs cgo. A rempart built
// with CGO_ENABLED=0 still builds; its Open then reports that HSMs are
// unavailable.
//
// Tests run against a real SoftHSM2 token (internal/softhsm; apt-get install
// softhsm2). They skip when it is absent, except under CI.
package hsm

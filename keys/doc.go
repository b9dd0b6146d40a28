// Package keys manages rempart's encryption keys (ENC-2, ENC-3, TEN-2).
//
// The hierarchy is: a root key held by a Provider (a local key file by
// default; HSM and cloud KMS providers plug in behind the same interface) →
// one key-encryption key (KEK) per tenant, stored only wrapped by the root key
// → data keys, stored only wrapped by their tenant's KEK. Service data is
// sealed with AES-256-GCM under a data key, with associated data that binds the
// ciphertext to its tenant, collection, record and version.
//
// Unwrapped data keys live only in memory, in a bounded cache, so the root key
// provider is not called per request.
//
// Large objects (attachments, backups) are sealed with a streaming
// construction over AES-256-GCM (stream.go): fixed segments under a per-object
// key, their order and end authenticated, any range readable on its own.
package keys

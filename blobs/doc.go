// Package blobs stores large objects, such as attachments (call recordings,
// documents) and backups, in a local directory (the embedded default) or in
// S3-compatible object storage (production, BCK-1). It uses gocloud.dev/blob
// underneath, without exposing it.
//
// # Contents are ciphertext
//
// Callers hand this package contents that are already encrypted, with the
// streaming AEAD of package keys under the tenant's keys (ENC-2, TEN-2): this
// package never sees plaintext service data, and neither does the storage
// behind it. Keys name objects and are stored and listed in clear, so they
// should be identifiers (tenant and object IDs), never personal data; see
// ValidateKey for their rules.
//
// # Locations
//
// Open takes a filesystem path or file:///absolute/path for a local directory,
// or s3://BUCKET?region=…&endpoint=…&use_path_style=true for S3; see Open for
// the parameters. Credentials never appear in a location: they come from the
// standard AWS environment and configuration. Error messages never carry
// credentials. This package does not log; of its dependencies, gocloud logs a
// reader that was never closed, and the AWS transfer manager logs a multipart
// upload that failed to complete, with the store's error message.
//
// # Guarantees
//
//   - Atomic visibility: an object appears under its key only once Put has
//     written all of it. The local store writes a temporary file beside the
//     final name, syncs it, renames it into place and syncs the directories,
//     so an acknowledged object also survives a crash; S3 makes an object
//     visible when its single request or its multipart upload completes.
//   - A failed Put (the source's error, the end of its context, an
//     unreachable or full store) leaves no new object, and no partial one:
//     the local store removes its temporary file, and on S3 the upload is
//     never completed and its parts are aborted.
//   - Constant memory: Put and Get stream. The local store copies through a
//     1 MiB buffer; on S3 a Put holds at most the first 16 MiB and about five
//     8 MiB parts (uploaded four at a time), whatever the object's size.
//   - List streams too, in lexical order of keys, across pages.
//
// Reads are ranged (GetRange), so that a part of a large object, such as a
// stretch of a recording, is read without the rest.
//
// # Operating notes
//
// On S3, a Put interrupted before its upload could be aborted (the process
// died, the store became unreachable) leaves parts that are invisible but
// billed: give the bucket a lifecycle rule that aborts incomplete multipart
// uploads after a day. Retention of deleted objects (BCK-3) is the bucket's
// versioning or object lock.
//
// On the local store, each key is a file and each "/" a directory, so a key
// cannot be both an object and the directory of other objects ("a" and
// "a/b"), which S3 allows: portable callers give their keys a fixed shape. A
// crash during a Put can leave a temporary file ("KEY.<hex>.tmp"), which no
// operation sees and which can be removed.
package blobs

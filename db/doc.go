// Package db is rempart's storage adapter: it opens SQLite (the embedded
// default) or PostgreSQL, applies the embedded numbered migrations of each
// dialect, and implements the stores of the domain packages.
//
// All writes go through one group committer (commit.go): each write runs in a
// savepoint of a shared transaction together with its audit entry, and the
// transaction commits once for the whole batch, so a write and its audit entry
// are durable together (AUD-1, BCK-3) while the fsync cost is shared.
package db

package db

// Test hooks, compiled only into this package's tests.

// ExecForTest runs a statement directly, outside the committer.
func (d *DB) ExecForTest(query string) error {
	_, err := d.write.Exec(query)
	return err
}

package main

import (
	"context"
	"io"
	"strings"
	"testing"
)

// TestPeopleSettingsRefused: a password expiry under the floor or a
// breached-password check over plain HTTP to another host (IAM-3), or a
// session idle timeout longer than its lifetime (IAM-6), stops the server
// with a message naming the setting.
func TestPeopleSettingsRefused(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--password-max-age", "240h"}, "password-max-age"},
		{[]string{"--password-max-age", "soon"}, "password-max-age"},
		{[]string{"--session-idle", "24h", "--session-lifetime", "12h"}, "session-idle"},
		{[]string{"--password-breach-check", "http://api.pwnedpasswords.com"}, "password-breach-check"},
		{[]string{"--password-breach-check", "ftp://127.0.0.1/range"}, "password-breach-check"},
		{[]string{"--password-breach-check", "pwned"}, "password-breach-check"},
	} {
		m := NewMain(io.Discard, io.Discard)
		if err := m.ParseFlags(append([]string{"--data-dir", t.TempDir()}, tc.args...)); err != nil {
			t.Fatal(err)
		}
		err := m.Run(context.Background())
		m.Close()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: got %v, want an error naming %s", tc.args, err, tc.want)
		}
	}
}

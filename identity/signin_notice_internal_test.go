package identity

import (
	"bytes"
	"testing"
)

// TestSignInNetwork: a network is the /24 of an IPv4 address (mapped in
// IPv6 or not) and the /48 of an IPv6 one; what does not parse is one
// "unknown" network.
func TestSignInNetwork(t *testing.T) {
	for ip, want := range map[string]string{
		"192.0.2.10":            "192.0.2.0/24",
		"192.0.2.250":           "192.0.2.0/24",
		"::ffff:192.0.2.7":      "192.0.2.0/24",
		"2001:db8:1:2::5":       "2001:db8:1::/48",
		"2001:db8:1:ffff::1":    "2001:db8:1::/48",
		"2001:db8:2::1":         "2001:db8:2::/48",
		"fe80::1%eth0":          "fe80::/48",
		"":                      "unknown",
		"192.0.2.10:443":        "unknown",
		"not an address\r\nBcc": "unknown",
	} {
		if got := signInNetwork(ip); got != want {
			t.Errorf("signInNetwork(%q) = %q, want %q", ip, got, want)
		}
	}
}

// TestBrowserFamily: a browser is named from a fixed vocabulary without
// its version; an unknown program by its product token only when that is
// made of safe characters; nothing else of the header comes through.
func TestBrowserFamily(t *testing.T) {
	for ua, want := range map[string]string{
		"Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0":                                                                  "Firefox on Linux",
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36":                         "Chrome on Windows",
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0":           "Edge on Windows",
		"Mozilla/5.0 (Macintosh; Intel Mac OS X 14_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15":                      "Safari on macOS",
		"Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1": "Safari on iOS",
		"Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36":                            "Chrome on Android",
		"curl/8.5.0":       "a program calling itself curl",
		"rempart-cli/1.2":  "a program calling itself rempart-cli",
		"":                 "an unrecognised program",
		"Call <me> at 555": "an unrecognised program",
		"Urgent!/1.0":      "an unrecognised program",
		"\r\nBcc: x@y/1":   "an unrecognised program",
	} {
		if got := browserFamily(ua); got != want {
			t.Errorf("browserFamily(%q) = %q, want %q", ua, got, want)
		}
	}
}

// TestFingerprint: the hash of a network and browser depends on the
// deployment's key, and on both parts.
func TestFingerprint(t *testing.T) {
	a := &Service{networkKey: networkKey(bytes.Repeat([]byte{1}, 32))}
	b := &Service{networkKey: networkKey(bytes.Repeat([]byte{2}, 32))}
	fp := a.fingerprint("192.0.2.0/24", "Firefox on Linux")
	if len(fp) != 32 || bytes.Equal(fp, b.fingerprint("192.0.2.0/24", "Firefox on Linux")) ||
		bytes.Equal(fp, a.fingerprint("192.0.3.0/24", "Firefox on Linux")) || bytes.Equal(fp, a.fingerprint("192.0.2.0/24", "Chrome on Linux")) {
		t.Errorf("fingerprints do not separate keys, networks and browsers")
	}
	if networkKey(nil) != nil {
		t.Error("a network key without an MFA key")
	}
}

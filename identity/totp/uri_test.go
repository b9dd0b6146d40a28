package totp

import (
	"net/url"
	"testing"

	"github.com/rempart/rempart"
)

func TestKeyURI(t *testing.T) {
	got, err := KeyURI("Example", "alice@example.com", rfcSecret)
	if err != nil {
		t.Fatal(err)
	}
	want := "otpauth://totp/Example:alice%40example.com?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ" +
		"&issuer=Example&algorithm=SHA1&digits=6&period=30"
	if got != want {
		t.Errorf("got %s\nwant %s", got, want)
	}
}

// Characters that mean something in a URI survive a parse unchanged.
func TestKeyURIEscaping(t *testing.T) {
	issuer := "Acme & Co/Paris #1?"
	account := "bob+mfa=x@exämple.com 100%"
	s, err := KeyURI(issuer, account, rfcSecret)
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(s)
	if err != nil {
		t.Fatalf("parse %s: %v", s, err)
	}
	if u.Scheme != "otpauth" || u.Host != "totp" {
		t.Errorf("scheme and host: got %s://%s, want otpauth://totp", u.Scheme, u.Host)
	}
	if got, want := u.Path, "/"+issuer+":"+account; got != want {
		t.Errorf("label: got %q, want %q", got, want)
	}
	q := u.Query()
	checks := map[string]string{
		"secret": "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", "issuer": issuer,
		"algorithm": "SHA1", "digits": "6", "period": "30",
	}
	for k, want := range checks {
		if got := q.Get(k); got != want {
			t.Errorf("%s: got %q, want %q", k, got, want)
		}
	}
	if len(q) != len(checks) {
		t.Errorf("query: got %d parameters (%v), want %d", len(q), q, len(checks))
	}
	for _, c := range s {
		if c == ' ' || c == '+' || c > 0x7e {
			t.Fatalf("URI %q holds %q; want spaces as %%20 and only ASCII", s, c)
		}
	}
}

func TestKeyURIRejects(t *testing.T) {
	tests := []struct {
		name, issuer, account string
		secret                []byte
	}{
		{"empty issuer", "", "alice", rfcSecret},
		{"empty account", "Example", "", rfcSecret},
		{"colon in issuer", "Ex:ample", "alice", rfcSecret},
		{"colon in account", "Example", "al:ice", rfcSecret},
		{"control character", "Example", "alice\n", rfcSecret},
		{"empty secret", "Example", "alice", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := KeyURI(tt.issuer, tt.account, tt.secret)
			wantCode(t, err, rempart.EINVALID)
		})
	}
}

package password

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/rempart/rempart"
)

func sha1Hex(s string) string {
	sum := sha1.Sum([]byte(s))
	return strings.ToUpper(hex.EncodeToString(sum[:]))
}

// rangeServer answers /range/{prefix} with body, recording what it was asked.
func rangeServer(t *testing.T, status int, body func(prefix string) string) (*httptest.Server, *http.Request) {
	t.Helper()
	seen := new(http.Request)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		*seen = *r.Clone(context.Background())
		w.WriteHeader(status)
		fmt.Fprint(w, body(strings.TrimPrefix(r.URL.Path, "/range/")))
	}))
	t.Cleanup(srv.Close)
	return srv, seen
}

func TestPwnedFindsCountAndSendsOnlyPrefix(t *testing.T) {
	const pw = "P@ssw0rd-breached"
	digest := sha1Hex(pw)
	srv, seen := rangeServer(t, 200, func(prefix string) string {
		if prefix != digest[:5] {
			return ""
		}
		return "0018A45C4D1DEF81644B54AB7F969B88D65:1\r\n" +
			strings.ToLower(digest[5:]) + ":42\r\n" +
			"00D4F6E8FA6EECAD2A3AA415EEC418D38EC:0\r\n"
	})
	c := NewPwnedClient(PwnedConfig{BaseURL: srv.URL + "/"})
	n, err := c.Breaches(context.Background(), pw)
	if err != nil || n != 42 {
		t.Errorf("Breaches = %d, %v; want 42, nil", n, err)
	}
	if got, want := seen.URL.Path, "/range/"+digest[:5]; got != want {
		t.Errorf("request path = %q, want %q", got, want)
	}
	if got := seen.Header.Get("Add-Padding"); got != "true" {
		t.Errorf("Add-Padding = %q, want true", got)
	}
	if strings.Contains(seen.URL.String(), digest[5:]) || strings.Contains(seen.URL.String(), pw) {
		t.Errorf("request %q leaks more than the 5-digit prefix", seen.URL)
	}
}

func TestPwnedIgnoresPaddingAndAbsent(t *testing.T) {
	const pw = "Gl4cier-Otter-Hum"
	suffix := sha1Hex(pw)[5:]
	srv, _ := rangeServer(t, 200, func(string) string {
		return suffix + ":0\r\n0018A45C4D1DEF81644B54AB7F969B88D65:3\r\n"
	})
	n, err := NewPwnedClient(PwnedConfig{BaseURL: srv.URL}).Breaches(context.Background(), pw)
	if err != nil || n != 0 {
		t.Errorf("Breaches (only a padding entry matches) = %d, %v; want 0, nil", n, err)
	}
}

func TestPwnedFailsClosed(t *testing.T) {
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(2 * time.Second):
		}
	}))
	t.Cleanup(slow.Close)
	bad, _ := rangeServer(t, 200, func(string) string { return "not a range response\r\n" })
	huge, _ := rangeServer(t, 200, func(string) string {
		return strings.Repeat("0018A45C4D1DEF81644B54AB7F969B88D65:1\r\n", 1000)
	})
	down, _ := rangeServer(t, 503, func(string) string { return "" })
	for name, cfg := range map[string]PwnedConfig{
		"timeout":   {BaseURL: slow.URL, Timeout: 50 * time.Millisecond},
		"malformed": {BaseURL: bad.URL},
		"too large": {BaseURL: huge.URL, MaxBody: 4096},
		"status":    {BaseURL: down.URL},
		"refused":   {BaseURL: "http://127.0.0.1:1"},
	} {
		_, err := NewPwnedClient(cfg).Breaches(context.Background(), "Gl4cier-Otter-Hum")
		if got := rempart.ErrorCode(err); got != rempart.EUNAVAILABLE {
			t.Errorf("%s: code = %q, want %q (err %v)", name, got, rempart.EUNAVAILABLE, err)
		}
		if msg := rempart.ErrorMessage(err); !strings.Contains(msg, "breached-password check is unavailable") {
			t.Errorf("%s: message %q is not the user-facing one", name, msg)
		}
	}
}

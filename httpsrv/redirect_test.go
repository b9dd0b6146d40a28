package httpsrv_test

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/rempart/rempart/httpsrv"
)

func TestRedirectHandler(t *testing.T) {
	cases := []struct {
		port                 int
		method, host, target string
		wantStatus           int
		wantLocation         string
	}{
		{8443, "GET", "example.com:8080", "/a/b?c=d&e=%2F", 308, "https://example.com:8443/a/b?c=d&e=%2F"},
		{8443, "POST", "example.com", "/api/v1/records", 308, "https://example.com:8443/api/v1/records"},
		{8443, "GET", "Example.COM.", "/a%2Fb", 308, "https://example.com:8443/a%2Fb"},
		{8443, "GET", "example.com:", "/", 308, "https://example.com:8443/"},
		{8443, "GET", "127.0.0.1:80", "/", 308, "https://127.0.0.1:8443/"},
		{8443, "GET", "[::1]:8080", "/x", 308, "https://[::1]:8443/x"},
		{8443, "GET", "[::1]", "/x", 308, "https://[::1]:8443/x"},
		{8443, "GET", "example.com", "//evil.example/x", 308, "https://example.com:8443//evil.example/x"},
		{8443, "OPTIONS", "example.com", "*", 308, "https://example.com:8443/"},
		{443, "GET", "example.com:80", "/p?q=1", 308, "https://example.com/p?q=1"},
		{443, "GET", "[2001:db8::1]:80", "/", 308, "https://[2001:db8::1]/"},
		{443, "GET", "192.0.2.1", "/", 308, "https://192.0.2.1/"},
		// Hosts that are not a DNS name or an IP address.
		{8443, "GET", "", "/", 400, ""},
		{8443, "GET", "evil.example/@x", "/", 400, ""},
		{8443, "GET", "user@example.com", "/", 400, ""},
		{8443, "GET", "a b", "/", 400, ""},
		{8443, "GET", "evil.example\\.example.com", "/", 400, ""},
		{8443, "GET", "exa_mple.com", "/", 400, ""},
		{8443, "GET", "-x.example", "/", 400, ""},
		{8443, "GET", "x..example", "/", 400, ""},
		{8443, "GET", "é.example", "/", 400, ""},
		{8443, "GET", "1.2.3", "/", 400, ""},
		{8443, "GET", "example.com:99999", "/", 400, ""},
		{8443, "GET", "example.com:8o", "/", 400, ""},
		{8443, "GET", "example.com:80:80", "/", 400, ""},
		{8443, "GET", "[fe80::1%eth0]:80", "/", 400, ""},
		{8443, "GET", strings.Repeat("a.", 127) + "com", "/", 400, ""},
		{8443, "GET", strings.Repeat("a", 64) + ".com", "/", 400, ""},
	}
	for _, c := range cases {
		r := httptest.NewRequest(c.method, c.target, strings.NewReader("body"))
		r.Host = c.host
		w := httptest.NewRecorder()
		httpsrv.RedirectHandler(c.port).ServeHTTP(w, r)
		if w.Code != c.wantStatus || w.Header().Get("Location") != c.wantLocation {
			t.Errorf("%s %q %s (https port %d): got %d %q, want %d %q", c.method, c.host, c.target, c.port, w.Code, w.Header().Get("Location"), c.wantStatus, c.wantLocation)
		}
		if w.Code == 308 && w.Body.Len() != 0 {
			t.Errorf("%s %q %s: got body %q, want none", c.method, c.host, c.target, w.Body)
		}
	}
}

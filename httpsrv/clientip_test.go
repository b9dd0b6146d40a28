package httpsrv_test

import (
	"net/http/httptest"
	"net/netip"
	"testing"

	"github.com/rempart/rempart/httpsrv"
)

func TestClientIP(t *testing.T) {
	proxies := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00::/8")}
	cases := []struct {
		name    string
		remote  string
		xff     []string
		trusted []netip.Prefix
		want    string
	}{
		{"no proxy", "192.0.2.7:1234", nil, nil, "192.0.2.7"},
		{"spoofed XFF, no trusted proxy", "192.0.2.7:1234", []string{"1.2.3.4"}, nil, "192.0.2.7"},
		{"spoofed XFF from an untrusted peer", "192.0.2.7:1234", []string{"1.2.3.4"}, proxies, "192.0.2.7"},
		{"trusted proxy", "10.1.1.1:1234", []string{"1.2.3.4"}, proxies, "1.2.3.4"},
		{"trusted proxy, no XFF", "10.1.1.1:1234", nil, proxies, "10.1.1.1"},
		{"chain: right-most untrusted", "10.1.1.1:1234", []string{"6.6.6.6, 1.2.3.4, 10.2.2.2"}, proxies, "1.2.3.4"},
		{"chain over two header lines", "10.1.1.1:1234", []string{"6.6.6.6", "1.2.3.4, 10.2.2.2"}, proxies, "1.2.3.4"},
		{"client-sent line before the proxy's", "10.1.1.1:1234", []string{"6.6.6.6", "1.2.3.4"}, proxies, "1.2.3.4"},
		{"only trusted hops", "10.1.1.1:1234", []string{"10.3.3.3, 10.2.2.2"}, proxies, "10.3.3.3"},
		{"garbage", "10.1.1.1:1234", []string{"garbage"}, proxies, "10.1.1.1"},
		{"garbage left of the client", "10.1.1.1:1234", []string{"garbage, 1.2.3.4"}, proxies, "1.2.3.4"},
		{"garbage right of a trusted hop", "10.1.1.1:1234", []string{"1.2.3.4, garbage, 10.2.2.2"}, proxies, "10.2.2.2"},
		{"empty entries", "10.1.1.1:1234", []string{"1.2.3.4, , 10.2.2.2,"}, proxies, "1.2.3.4"},
		{"entry with a port", "10.1.1.1:1234", []string{"1.2.3.4:5555"}, proxies, "1.2.3.4"},
		{"IPv6 entry with a port", "10.1.1.1:1234", []string{"[2001:db8::1]:443"}, proxies, "2001:db8::1"},
		{"IPv6 proxy", "[fd00::1]:1234", []string{"2001:db8::2"}, proxies, "2001:db8::2"},
		{"IPv6 peer", "[2001:db8::5]:443", []string{"1.2.3.4"}, proxies, "2001:db8::5"},
		{"IPv4-mapped peer", "[::ffff:192.0.2.7]:1", nil, nil, "192.0.2.7"},
		{"IPv4-mapped proxy", "[::ffff:10.1.1.1]:1", []string{"1.2.3.4"}, proxies, "1.2.3.4"},
		{"no port", "192.0.2.7", nil, nil, "192.0.2.7"},
	}
	for _, c := range cases {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = c.remote
		for _, v := range c.xff {
			r.Header.Add("X-Forwarded-For", v)
		}
		if got := httpsrv.ClientIP(r, c.trusted); got != c.want {
			t.Errorf("%s (%s, XFF %q): got %s, want %s", c.name, c.remote, c.xff, got, c.want)
		}
	}
}

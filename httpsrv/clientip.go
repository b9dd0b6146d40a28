package httpsrv

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// ClientIP returns the IP address of the client of r, without port, for rate
// limiting, IP allowlists (NET-2) and the audit trail.
//
// It is the address of the TCP peer (r.RemoteAddr) unless that peer is inside
// one of trustedProxies. Only then is X-Forwarded-For read, from the right:
// each trusted proxy appends the address it received the request from, so the
// right-most address that is not itself a trusted proxy is the client, and
// everything to its left was written by the client and is ignored. Every
// X-Forwarded-For header line is read, in order, as one list. If the list
// holds something that is not an address before an untrusted one is found,
// the last trusted hop is returned, never a value the client could choose.
func ClientIP(r *http.Request, trustedProxies []netip.Prefix) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil {
		return host // not an IP connection (a Unix socket, a test)
	}
	client := peer.Unmap()
	if !trusted(client, trustedProxies) {
		return client.String()
	}
	lines := r.Header.Values("X-Forwarded-For")
	for i := len(lines) - 1; i >= 0; i-- {
		rest := lines[i]
		for rest != "" {
			hop := rest
			if j := strings.LastIndexByte(rest, ','); j >= 0 {
				hop, rest = rest[j+1:], rest[:j]
			} else {
				rest = ""
			}
			hop = strings.TrimSpace(hop)
			if hop == "" {
				continue
			}
			a, ok := parseHop(hop)
			if !ok {
				return client.String()
			}
			client = a
			if !trusted(a, trustedProxies) {
				return a.String()
			}
		}
	}
	return client.String()
}

// parseHop reads one X-Forwarded-For entry: an address, optionally with a
// port ("192.0.2.1:443", "[2001:db8::1]:443") or in brackets.
func parseHop(s string) (netip.Addr, bool) {
	a, err := netip.ParseAddr(s)
	if err != nil {
		ap, perr := netip.ParseAddrPort(s)
		if perr != nil {
			if len(s) < 2 || s[0] != '[' || s[len(s)-1] != ']' {
				return netip.Addr{}, false
			}
			if a, err = netip.ParseAddr(s[1 : len(s)-1]); err != nil {
				return netip.Addr{}, false
			}
		} else {
			a = ap.Addr()
		}
	}
	return a.Unmap().WithZone(""), true
}

func trusted(a netip.Addr, prefixes []netip.Prefix) bool {
	a = a.WithZone("")
	for _, p := range prefixes {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

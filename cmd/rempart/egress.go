package main

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"
)

// Outbound requests that a tenant's admin can aim (single sign-on issuers
// and metadata URLs, IAM-5) go through egressClient, which connects only to
// public addresses: a URL cannot make the server reach its own network
// (loopback, private ranges, link-local such as a cloud's metadata service)
// unless the operator lists that network in sso-allowed-networks. The check
// is made on the address actually dialled, after name resolution, so a name
// that resolves to an internal address (or is rebound to one) is refused
// too. No proxy from the environment is used: it would dial in its place.

// errInternalAddress is the refusal of a dial to a non-public address.
var errInternalAddress = errors.New("the address is not public and not in sso-allowed-networks")

// shared is 100.64.0.0/10, carrier-grade NAT: not public either.
var shared = netip.MustParsePrefix("100.64.0.0/10")

// publicAddr reports whether a may be dialled: a public unicast address, or
// one in allowed.
func publicAddr(a netip.Addr, allowed []netip.Prefix) bool {
	a = a.Unmap()
	for _, p := range allowed {
		if p.Contains(a) {
			return true
		}
	}
	return a.IsGlobalUnicast() && !a.IsPrivate() && !shared.Contains(a)
}

// egressClient is an HTTP client that dials public addresses only, or
// those in allowed.
func egressClient(allowed []netip.Prefix) *http.Client {
	d := &net.Dialer{Timeout: 5 * time.Second, Control: func(network, address string, _ syscall.RawConn) error {
		ap, err := netip.ParseAddrPort(address)
		if err != nil {
			return fmt.Errorf("dial %s: %w", address, err)
		}
		if !publicAddr(ap.Addr(), allowed) {
			return fmt.Errorf("dial %s: %w", address, errInternalAddress)
		}
		return nil
	}}
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.Proxy = nil
	t.DialContext = d.DialContext
	return &http.Client{Timeout: 10 * time.Second, Transport: t}
}

package main

import (
	"context"
	"net"
	"net/netip"
	"sync/atomic"
	"testing"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/client"
)

// TestPublicAddr: single sign-on's outbound requests reach public unicast
// addresses only, unless the operator allows a network (IAM-5, SSRF).
func TestPublicAddr(t *testing.T) {
	allowed := []netip.Prefix{netip.MustParsePrefix("10.20.0.0/16")}
	for addr, want := range map[string]bool{
		"93.184.215.14": true, "2606:2800:21f:cb07:6820:80da:af6b:8b2c": true,
		"127.0.0.1": false, "::1": false, "10.1.2.3": false, "172.16.0.9": false, "192.168.1.1": false,
		"169.254.169.254": false, "fe80::1": false, "fd00::1": false, "100.64.0.1": false, "0.0.0.0": false,
		"::": false, "224.0.0.1": false, "::ffff:10.1.2.3": false, "::ffff:93.184.215.14": true,
		"10.20.3.4": true, "::ffff:10.20.3.4": true,
	} {
		if got := publicAddr(netip.MustParseAddr(addr), allowed); got != want {
			t.Errorf("%s: dialable %v, want %v", addr, got, want)
		}
	}
}

// TestSSODoesNotReachInternalNetwork: an issuer or metadata URL that names
// an address of the server's own network is refused before any connection
// is made, unless sso-allowed-networks lists it.
func TestSSODoesNotReachInternalNetwork(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var conns atomic.Int64
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns.Add(1)
			c.Close()
		}
	}()
	internal := "https://" + ln.Addr().String()
	ctx := context.Background()
	try := func(allowed string) {
		t.Helper()
		args := []string{"--backup-schedule", "off", "--restore-test-schedule", "off", "--public-url", "https://rempart.example.com"}
		if allowed != "" {
			args = append(args, "--sso-allowed-networks", allowed)
		}
		m, _ := startMain(t, t.TempDir(), args...)
		base := "https://" + m.Server.Addr("https")
		b, err := client.New(base, client.WithHTTPClient(insecureClient(nil))).Bootstrap(ctx, m.Bootstrap)
		if err != nil {
			t.Fatal(err)
		}
		admin := client.New(base, client.WithHTTPClient(insecureClient(nil)), client.WithAPIKey(b.Key.Secret))
		ten, err := admin.CreateTenant(ctx, rempart.TenantCreate{Name: "Acme"})
		if err != nil {
			t.Fatal(err)
		}
		for _, in := range []rempart.SSOProviderInput{
			{Name: "Inside", Issuer: internal, ClientID: "c", ClientSecret: "s", EmailDomains: []string{"acme.example"}, DefaultRole: rempart.RoleReader},
			{Name: "Inside SAML", Protocol: rempart.SSOProtocolSAML, IDPMetadataURL: internal + "/metadata", EmailDomains: []string{"acme.example"}, DefaultRole: rempart.RoleReader},
		} {
			if _, err := admin.CreateSSOProvider(ctx, ten.ID, in); rempart.ErrorCode(err) != rempart.EINVALID {
				t.Fatalf("%s at %s: got %v, want invalid", in.Name, internal, err)
			}
		}
	}
	try("")
	if n := conns.Load(); n != 0 {
		t.Fatalf("the server connected %d times to a loopback issuer: it must not reach its own network", n)
	}
	// Allowed, it connects (and the providers are still refused: the
	// listener answers nothing).
	try("127.0.0.0/8")
	if n := conns.Load(); n < 2 {
		t.Fatalf("with sso-allowed-networks, %d connections; want the issuer and the metadata URL tried", n)
	}
}

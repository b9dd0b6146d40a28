package main

import (
	"net"

	"github.com/rempart/rempart/identity"
)

// webauthnConfig is the relying party of security keys (IAM-4): the RP ID
// setting, and the origins setting or, by default, https://<rp id>:<port of
// listen> (the port left out when it is 443), which is what a browser on the
// embedded default (https://localhost:8443) presents.
func webauthnConfig(rpID, origins, listen string) identity.WebAuthnConfig {
	cfg := identity.WebAuthnConfig{RPID: rpID, Origins: splitList(origins)}
	if len(cfg.Origins) == 0 {
		_, port, err := net.SplitHostPort(listen)
		host := rpID
		if err == nil && port != "" && port != "443" {
			host = net.JoinHostPort(rpID, port)
		}
		cfg.Origins = []string{"https://" + host}
	}
	return cfg
}

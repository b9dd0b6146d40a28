package main

import (
	"bytes"
	"testing"
)

// TestSSOConfig: single sign-on is off without public-url, on with an https
// origin (its callback under it), and refused with anything else (IAM-5).
func TestSSOConfig(t *testing.T) {
	for in, want := range map[string]string{
		"":                                 "",
		"https://rempart.example.com":      "https://rempart.example.com/sso/callback",
		"https://rempart.example.com/":     "https://rempart.example.com/sso/callback",
		"https://rempart.example.com:8443": "https://rempart.example.com:8443/sso/callback",
		"http://rempart.example.com":       "error",
		"https://rempart.example.com/x":    "error",
		"https://rempart.example.com?a=b":  "error",
		"rempart.example.com":              "error",
	} {
		m := &Main{publicURL: &in, Deployment: &deployment{SecretsKey: bytes.Repeat([]byte{9}, 32)}}
		cfg, err := m.ssoConfig()
		switch {
		case want == "error" && err == nil:
			t.Errorf("%q: accepted", in)
		case want != "error" && (err != nil || cfg.RedirectURL != want || (want != "") != (cfg.OIDC != nil && cfg.Secrets != nil)):
			t.Errorf("%q: got %+v, %v; want callback %q", in, cfg.RedirectURL, err, want)
		}
	}
}

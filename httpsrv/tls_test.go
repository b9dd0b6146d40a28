package httpsrv_test

import (
	"crypto/tls"
	"io"
	"testing"

	"github.com/rempart/rempart/httpsrv"
)

func TestTLSHandshakePolicy(t *testing.T) {
	servers := map[string]string{
		"ecdsa": startHTTPS(t, newCert(t), okHandler()).Addr("https"),
		"rsa":   startHTTPS(t, newRSACert(t), okHandler()).Addr("https"),
	}
	tls12 := func(suites ...uint16) *tls.Config {
		return &tls.Config{MaxVersion: tls.VersionTLS12, CipherSuites: suites}
	}
	cases := []struct {
		name, server string
		client       *tls.Config
		wantOK       bool
	}{
		{"default client", "ecdsa", &tls.Config{}, true},
		{"TLS 1.1 at most", "ecdsa", &tls.Config{MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS11}, false},
		{"TLS 1.0 only", "rsa", &tls.Config{MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS10}, false},
		{"1.2 ECDHE-ECDSA-AES128-GCM", "ecdsa", tls12(tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256), true},
		{"1.2 ECDHE-ECDSA-AES256-GCM", "ecdsa", tls12(tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384), true},
		{"1.2 ECDHE-ECDSA-CHACHA20", "ecdsa", tls12(tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256), true},
		{"1.2 ECDHE-ECDSA-AES128-CBC-SHA", "ecdsa", tls12(tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA), false},
		{"1.2 ECDHE-ECDSA-AES128-CBC-SHA256", "ecdsa", tls12(tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256), false},
		{"1.2 ECDHE-RSA-AES128-GCM", "rsa", tls12(tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256), true},
		{"1.2 ECDHE-RSA-CHACHA20", "rsa", tls12(tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256), true},
		{"1.2 ECDHE-RSA-AES256-CBC-SHA", "rsa", tls12(tls.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA), false},
		{"1.2 RSA key exchange AES-GCM", "rsa", tls12(tls.TLS_RSA_WITH_AES_128_GCM_SHA256), false},
		{"1.2 RSA key exchange 3DES", "rsa", tls12(tls.TLS_RSA_WITH_3DES_EDE_CBC_SHA), false},
		{"1.2 only P-384", "ecdsa", &tls.Config{MaxVersion: tls.VersionTLS12, CurvePreferences: []tls.CurveID{tls.CurveP384}}, false},
		{"1.3 only P-384", "ecdsa", &tls.Config{MinVersion: tls.VersionTLS13, CurvePreferences: []tls.CurveID{tls.CurveP384}}, false},
		{"1.3 only X25519", "ecdsa", &tls.Config{MinVersion: tls.VersionTLS13, CurvePreferences: []tls.CurveID{tls.X25519}}, true},
		{"1.2 only P-256", "ecdsa", &tls.Config{MaxVersion: tls.VersionTLS12, CurvePreferences: []tls.CurveID{tls.CurveP256}}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.client.InsecureSkipVerify = true
			conn, err := tls.Dial("tcp", servers[c.server], c.client)
			if err == nil {
				conn.Close()
			}
			if got := err == nil; got != c.wantOK {
				t.Errorf("handshake succeeded: got %v (err %v), want %v", got, err, c.wantOK)
			}
		})
	}
}

func TestTLSDefaults(t *testing.T) {
	// Every TLS 1.2 suite allowed is also unusable below 1.2; the minimum
	// version is checked here as well so that neither guard can go alone.
	if got := httpsrv.TLSConfig(newCert(t)).MinVersion; got != tls.VersionTLS12 {
		t.Errorf("MinVersion: got %s, want TLS 1.2", tls.VersionName(got))
	}
	addr := startHTTPS(t, newCert(t), okHandler()).Addr("https")
	conn, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true, NextProtos: []string{"h2", "http/1.1"}})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	st := conn.ConnectionState()
	if st.Version != tls.VersionTLS13 {
		t.Errorf("version: got %s, want TLS 1.3", tls.VersionName(st.Version))
	}
	if st.CurveID != tls.X25519MLKEM768 {
		t.Errorf("key exchange: got %s, want X25519MLKEM768", st.CurveID)
	}
	if st.NegotiatedProtocol != "h2" {
		t.Errorf("ALPN: got %q, want h2", st.NegotiatedProtocol)
	}
}

func TestHSTSOverHTTP2(t *testing.T) {
	addr := startHTTPS(t, newCert(t), okHandler()).Addr("https")
	c := insecureClient()
	defer c.CloseIdleConnections()
	resp, err := c.Get("https://" + addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "ok" {
		t.Errorf("response: got %d %q, want 200 \"ok\"", resp.StatusCode, body)
	}
	if resp.Proto != "HTTP/2.0" {
		t.Errorf("protocol: got %s, want HTTP/2.0", resp.Proto)
	}
	if got, want := resp.Header.Get("Strict-Transport-Security"), "max-age=63072000; includeSubDomains"; got != want {
		t.Errorf("Strict-Transport-Security: got %q, want %q", got, want)
	}
	if got := resp.Header.Get("X-Content-Type-Options"); got != "nosniff" {
		t.Errorf("X-Content-Type-Options: got %q, want nosniff", got)
	}
}

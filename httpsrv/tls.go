package httpsrv

import (
	"crypto/tls"
	"net/http"
)

// TLSConfig returns the server's TLS configuration (ENC-1): TLS 1.2 at least,
// TLS 1.3 negotiated whenever the client supports it (Go always prefers the
// highest common version), and under TLS 1.2 only ECDHE key exchange with an
// AEAD cipher (AES-GCM or ChaCha20-Poly1305), so every session has forward
// secrecy. TLS 1.3 suites are all AEAD and are not configurable in Go.
//
// Key exchange is limited to X25519 and P-256, plus the hybrid post-quantum
// exchanges built on them (X25519MLKEM768, SecP256r1MLKEM768), which TLS 1.3
// clients that support them will use.
//
// The certificate is served to every client; ALPN offers HTTP/2 and HTTP/1.1.
func TLSConfig(cert tls.Certificate) *tls.Config {
	return &tls.Config{
		Certificates: []tls.Certificate{cert},
		MinVersion:   tls.VersionTLS12,
		MaxVersion:   tls.VersionTLS13,
		// Only consulted for TLS 1.2; the order is ignored since Go 1.17.
		CipherSuites: []uint16{
			tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
			tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
			tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
			tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
			tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
			tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
		},
		CurvePreferences: []tls.CurveID{
			tls.X25519MLKEM768, tls.SecP256r1MLKEM768, tls.X25519, tls.CurveP256,
		},
		NextProtos: []string{"h2", "http/1.1"},
	}
}

// HSTS wraps h so that every answer tells browsers to use HTTPS only, for two
// years and on every subdomain (ENC-1), and not to sniff content types.
func HSTS(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		h.ServeHTTP(w, r)
	})
}

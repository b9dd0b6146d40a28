// Package httpsrv runs rempart's network listeners: HTTPS with a strict TLS
// configuration (ENC-1), a plain-HTTP port that only redirects, an internal
// listener for health and metrics (TEN-3), graceful shutdown, and rate
// limiting (NET-2).
//
// The pieces are independent: TLSConfig and LoadOrCreateCertificate prepare
// the certificate, HSTS and RedirectHandler are the only handlers this package
// provides, Server binds and drains the listeners it is given, and
// RateLimiter and ClientIP are used by the API edge (httpapi) to throttle
// callers.
package httpsrv

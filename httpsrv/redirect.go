package httpsrv

import (
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
)

// RedirectHandler is the whole plain-HTTP port (ENC-1): every request, whatever
// its method, gets a 308 Permanent Redirect (which keeps the method and body)
// to the same path and query on https://<host>:<httpsPort>, the port left out
// when it is 443. Nothing else is ever served over plain HTTP, not even an
// HTML body.
//
// The host comes from the request's Host header without its port, so it must
// be a syntactically valid DNS name or IP address; anything else (empty,
// user info, slashes, zones, non-ASCII...) is answered 400, so the redirect
// cannot be turned into a link to an arbitrary place.
func RedirectHandler(httpsPort int) http.Handler {
	port := ""
	if httpsPort != 443 {
		port = ":" + strconv.Itoa(httpsPort)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host, ok := redirectHost(r.Host)
		if !ok {
			http.Error(w, "Bad Request: invalid Host header.", http.StatusBadRequest)
			return
		}
		// Only an origin-form path is kept: "*" (OPTIONS) or an opaque
		// request target would otherwise be glued onto the host name.
		path := r.URL.EscapedPath()
		if !strings.HasPrefix(path, "/") {
			path = "/"
		}
		if r.URL.RawQuery != "" {
			path += "?" + r.URL.RawQuery
		}
		w.Header().Set("Location", "https://"+host+port+path)
		w.WriteHeader(http.StatusPermanentRedirect)
	})
}

// redirectHost returns the host part of a Host header, canonical and ready to
// put in a URL (IPv6 in brackets), or false if it is not a valid host.
func redirectHost(hostport string) (string, bool) {
	host := hostport
	if h, p, err := net.SplitHostPort(hostport); err == nil {
		if !validPort(p) {
			return "", false
		}
		host = h
	} else if strings.HasPrefix(host, "[") && strings.HasSuffix(host, "]") {
		host = host[1 : len(host)-1]
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		if ip.Zone() != "" {
			return "", false
		}
		if ip = ip.Unmap(); ip.Is6() {
			return "[" + ip.String() + "]", true
		}
		return ip.String(), true
	}
	host = strings.TrimSuffix(host, ".")
	if !validDNSName(host) {
		return "", false
	}
	return strings.ToLower(host), true
}

func validPort(p string) bool {
	if p == "" {
		return true // "example.com:" is allowed by RFC 3986
	}
	n, err := strconv.Atoi(p)
	return err == nil && n >= 0 && n <= 65535 && len(p) <= 5
}

// validDNSName reports whether name is an ASCII host name (RFC 1123): dot
// separated labels of 1 to 63 letters, digits and hyphens, not starting or
// ending with a hyphen, 253 bytes at most. A name whose last label is all
// digits is refused too, since browsers would read it as an IPv4 address.
func validDNSName(name string) bool {
	if name == "" || len(name) > 253 {
		return false
	}
	allDigits := false
	for label := range strings.SplitSeq(name, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		allDigits = true
		for i := 0; i < len(label); i++ {
			c := label[i]
			switch {
			case c >= '0' && c <= '9':
			case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '-':
				allDigits = false
			default:
				return false
			}
		}
	}
	return !allDigits
}

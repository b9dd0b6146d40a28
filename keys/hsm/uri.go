package hsm

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// ErrNoCgo reports a rempart built with CGO_ENABLED=0, which cannot load a
// PKCS#11 library: Open returns it in such a build.
var ErrNoCgo = errors.New("this rempart was built without cgo: PKCS#11 HSMs are unavailable")

// config is what a PKCS#11 URI says. It is parsed without touching the HSM.
type config struct {
	token        string // CKA token label (required)
	serial       string // token serial number, to tell tokens with one label apart
	manufacturer string
	model        string
	slotID       *uint
	object       string // label prefix of the key versions (required)
	module       string // absolute path of the PKCS#11 library (required)
	pinFile      string // pin-source, or
	pinValue     string // pin-value (tests only)
	maxSessions  int
}

const defaultMaxSessions = 8

var (
	pathAttrs  = []string{"token", "object", "serial", "manufacturer", "model", "slot-id", "type"}
	queryAttrs = []string{"module-path", "pin-source", "pin-value", "x-max-sessions"}
)

// parseURI parses an RFC 7512 PKCS#11 URI such as
//
//	pkcs11:token=rempart;object=rempart-root?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=file:/etc/rempart/hsm.pin
//
// Its errors name attributes, never their values, so that a PIN in the URI
// cannot reach a log.
func parseURI(s string) (config, error) {
	rest, ok := strings.CutPrefix(s, "pkcs11:")
	if !ok {
		return config{}, errors.New(`pkcs11 uri: must start with "pkcs11:"`)
	}
	if strings.Contains(rest, "#") {
		return config{}, errors.New("pkcs11 uri: a fragment (#) is not allowed")
	}
	pathPart, queryPart, _ := strings.Cut(rest, "?")
	p, err := attributes(pathPart, ";", pathAttrs)
	if err != nil {
		return config{}, err
	}
	q, err := attributes(queryPart, "&", queryAttrs)
	if err != nil {
		return config{}, err
	}

	c := config{
		token: p["token"], serial: p["serial"], manufacturer: p["manufacturer"], model: p["model"],
		object: p["object"], module: q["module-path"], maxSessions: defaultMaxSessions,
	}
	if c.token == "" {
		return config{}, errors.New("pkcs11 uri: token=<label> is required")
	}
	if c.object == "" {
		return config{}, errors.New("pkcs11 uri: object=<label> is required (key versions are labelled <object>-1, <object>-2, …)")
	}
	if t, ok := p["type"]; ok && t != "secret-key" {
		return config{}, errors.New("pkcs11 uri: type must be secret-key (an AES-256 key)")
	}
	if v, ok := p["slot-id"]; ok {
		id, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			return config{}, errors.New("pkcs11 uri: slot-id must be a decimal number")
		}
		slot := uint(id)
		c.slotID = &slot
	}
	if c.module == "" {
		return config{}, errors.New("pkcs11 uri: module-path=<path of the PKCS#11 library> is required")
	}
	if !filepath.IsAbs(c.module) {
		return config{}, errors.New("pkcs11 uri: module-path must be an absolute path")
	}
	if v, ok := q["x-max-sessions"]; ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1024 {
			return config{}, errors.New("pkcs11 uri: x-max-sessions must be a number from 1 to 1024")
		}
		c.maxSessions = n
	}

	src, hasSrc := q["pin-source"]
	val, hasVal := q["pin-value"]
	switch {
	case hasSrc && hasVal:
		return config{}, errors.New("pkcs11 uri: give either pin-source or pin-value, not both")
	case hasSrc:
		path, ok := strings.CutPrefix(src, "file:")
		if !ok && !strings.HasPrefix(src, "/") {
			return config{}, errors.New("pkcs11 uri: pin-source must be file:<absolute path> of a file holding the PIN")
		}
		if !ok {
			path = src
		}
		path = strings.TrimPrefix(path, "//") // file:///etc/x and file:/etc/x
		if !filepath.IsAbs(path) {
			return config{}, errors.New("pkcs11 uri: pin-source must be file:<absolute path> of a file holding the PIN")
		}
		c.pinFile = path
	case hasVal:
		if val == "" {
			return config{}, errors.New("pkcs11 uri: pin-value is empty")
		}
		c.pinValue = val
	default:
		return config{}, errors.New("pkcs11 uri: no PIN: add pin-source=file:<path> (pin-value is for tests only)")
	}
	return c, nil
}

// attributes splits "a=1;b=2" into a map, percent-decoding the values and
// refusing unknown or repeated names.
func attributes(s, sep string, known []string) (map[string]string, error) {
	m := map[string]string{}
	if s == "" {
		return m, nil
	}
	for i, part := range strings.Split(s, sep) {
		name, value, ok := strings.Cut(part, "=")
		if !ok || name == "" {
			return nil, fmt.Errorf("pkcs11 uri: attribute %d of %q-separated list is not name=value", i+1, sep)
		}
		if !slices.Contains(known, name) {
			return nil, fmt.Errorf("pkcs11 uri: unknown attribute %q here (known: %s)", name, strings.Join(known, ", "))
		}
		if _, dup := m[name]; dup {
			return nil, fmt.Errorf("pkcs11 uri: attribute %q given twice", name)
		}
		v, err := url.PathUnescape(value)
		if err != nil {
			return nil, fmt.Errorf("pkcs11 uri: attribute %q is not properly percent-encoded", name)
		}
		m[name] = v
	}
	return m, nil
}

// readPIN returns the PIN the configuration names. A PIN file must not be
// readable or writable by others; one trailing newline is removed.
func (c config) readPIN() (string, error) {
	if c.pinFile == "" {
		return c.pinValue, nil
	}
	fi, err := os.Stat(c.pinFile)
	if err != nil {
		return "", fmt.Errorf("pkcs11 pin-source: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return "", fmt.Errorf("pkcs11 pin-source %s is not a regular file", c.pinFile)
	}
	if perm := fi.Mode().Perm(); perm&0o007 != 0 {
		return "", fmt.Errorf("pkcs11 pin-source %s has mode %#o: others must not access it (chmod 600 or 640)", c.pinFile, perm)
	}
	b, err := os.ReadFile(c.pinFile)
	if err != nil {
		return "", fmt.Errorf("pkcs11 pin-source: %w", err)
	}
	pin := strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r")
	if pin == "" {
		return "", fmt.Errorf("pkcs11 pin-source %s is empty", c.pinFile)
	}
	return pin, nil
}

package httpsrv

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net/netip"
	"os"
	"runtime"
	"strings"
	"time"
)

// LoadOrCreateCertificate returns the TLS certificate of the HTTPS listener
// (ENC-1: a fresh install serves TLS out of the box).
//
// If certFile and keyFile both exist they are loaded as a PEM pair; the key
// file must not be accessible to group or others. If neither exists, a
// self-signed ECDSA P-256 certificate valid for one year from now is created
// for localhost, 127.0.0.1, ::1 and hosts (DNS names, "*.name" wildcards or IP
// addresses); the key is written with mode 0600 and the certificate with 0644,
// both refusing to overwrite a file. If only one exists, it is an error: an
// operator's certificate is never silently replaced.
//
// fingerprint is the SHA-256 of the certificate, in upper-case hex pairs
// separated by colons, for the operator to compare with what clients see.
func LoadOrCreateCertificate(certFile, keyFile string, hosts []string, now time.Time) (cert tls.Certificate, fingerprint string, created bool, err error) {
	certExists, err := exists(certFile)
	if err != nil {
		return tls.Certificate{}, "", false, err
	}
	keyExists, err := exists(keyFile)
	if err != nil {
		return tls.Certificate{}, "", false, err
	}
	switch {
	case !certExists && !keyExists:
		cert, err = createSelfSigned(certFile, keyFile, hosts, now)
		if err != nil {
			return tls.Certificate{}, "", false, fmt.Errorf("create self-signed TLS certificate: %w", err)
		}
		return cert, certFingerprint(cert), true, nil
	case !certExists:
		return tls.Certificate{}, "", false, fmt.Errorf("TLS key %s exists but certificate %s does not: provide both files, or neither to create a self-signed pair", keyFile, certFile)
	case !keyExists:
		return tls.Certificate{}, "", false, fmt.Errorf("TLS certificate %s exists but key %s does not: provide both files, or neither to create a self-signed pair", certFile, keyFile)
	}
	if err := checkKeyFile(keyFile); err != nil {
		return tls.Certificate{}, "", false, err
	}
	cert, err = tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return tls.Certificate{}, "", false, fmt.Errorf("load TLS certificate %s and key %s: %w", certFile, keyFile, err)
	}
	return cert, certFingerprint(cert), false, nil
}

func exists(path string) (bool, error) {
	_, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	} else if err != nil {
		return false, fmt.Errorf("stat %s: %w", path, err)
	}
	return true, nil
}

// checkKeyFile refuses a private key that other users could read or replace.
func checkKeyFile(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("stat TLS key: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("TLS key %s is not a regular file", path)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 && runtime.GOOS != "windows" {
		return fmt.Errorf("TLS key %s has mode %#o: it must not be accessible to group or others (chmod 600 %s)", path, perm, path)
	}
	return nil
}

func createSelfSigned(certFile, keyFile string, hosts []string, now time.Time) (tls.Certificate, error) {
	dnsNames, ips, err := sanList(hosts)
	if err != nil {
		return tls.Certificate{}, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("generate key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("serial number: %w", err)
	}
	// A leaf, not a CA: an operator who trusts this certificate does not
	// give its key the power to vouch for other names.
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{Organization: []string{"rempart"}, CommonName: dnsNames[0]},
		NotBefore:             now.Add(-time.Hour), // tolerate small clock skew
		NotAfter:              now.AddDate(1, 0, 0),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		DNSNames:              dnsNames,
	}
	for _, ip := range ips {
		tmpl.IPAddresses = append(tmpl.IPAddresses, ip.AsSlice())
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("sign certificate: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("encode key: %w", err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
	if err := writeNew(keyFile, keyPEM, 0o600); err != nil {
		return tls.Certificate{}, err
	}
	if err := writeNew(certFile, certPEM, 0o644); err != nil {
		os.Remove(keyFile) // leave neither file, so the next start can retry
		return tls.Certificate{}, err
	}
	return tls.X509KeyPair(certPEM, keyPEM)
}

// sanList returns the certificate's names: localhost, 127.0.0.1 and ::1
// first, then hosts, without duplicates. A host that is neither an IP address
// nor a valid DNS name (optionally "*." followed by one) is an error.
func sanList(hosts []string) (dnsNames []string, ips []netip.Addr, err error) {
	seen := map[string]bool{}
	for _, h := range append([]string{"localhost", "127.0.0.1", "::1"}, hosts...) {
		h = strings.ToLower(strings.TrimSuffix(strings.TrimSpace(h), "."))
		if h == "" || seen[h] {
			continue
		}
		seen[h] = true
		if ip, err := netip.ParseAddr(strings.Trim(h, "[]")); err == nil && ip.Zone() == "" {
			ips = append(ips, ip.Unmap())
		} else if validDNSName(strings.TrimPrefix(h, "*.")) {
			dnsNames = append(dnsNames, h)
		} else {
			return nil, nil, fmt.Errorf("invalid host name %q for the TLS certificate", h)
		}
	}
	return dnsNames, ips, nil
}

// writeNew writes data to a file that must not exist yet (O_EXCL), removing
// it again if the write fails.
func writeNew(path string, data []byte, mode os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

func certFingerprint(cert tls.Certificate) string {
	sum := sha256.Sum256(cert.Certificate[0])
	h := strings.ToUpper(hex.EncodeToString(sum[:]))
	var b strings.Builder
	for i := 0; i < len(h); i += 2 {
		if i > 0 {
			b.WriteByte(':')
		}
		b.WriteString(h[i : i+2])
	}
	return b.String()
}

package httpsrv_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rempart/rempart/httpsrv"
)

func TestLoadOrCreateCertificate(t *testing.T) {
	dir := t.TempDir()
	cf, kf := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	now := time.Date(2030, 6, 1, 12, 0, 0, 0, time.UTC)
	cert, fp, created, err := httpsrv.LoadOrCreateCertificate(cf, kf, []string{"rempart.example", "192.0.2.10", " ", "localhost"}, now)
	if err != nil || !created {
		t.Fatalf("first call: got created=%v err=%v, want a new certificate", created, err)
	}
	if fi, err := os.Stat(kf); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode: got %v (%v), want 0600", fi.Mode().Perm(), err)
	}
	if fi, err := os.Stat(cf); err != nil || fi.Mode().Perm()&^0o644 != 0 {
		t.Fatalf("certificate file mode: got %v (%v), want at most 0644", fi.Mode().Perm(), err)
	}

	sum := sha256.Sum256(cert.Certificate[0])
	if want := strings.ToUpper(hex.EncodeToString(sum[:])); strings.ReplaceAll(fp, ":", "") != want || len(fp) != 95 {
		t.Errorf("fingerprint: got %s, want colon-separated %s", fp, want)
	}

	leaf, err := x509.ParseCertificate(cert.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	if pub, ok := leaf.PublicKey.(*ecdsa.PublicKey); !ok || pub.Curve != elliptic.P256() {
		t.Errorf("public key: got %T, want ECDSA P-256", leaf.PublicKey)
	}
	if got, want := leaf.NotAfter, now.AddDate(1, 0, 0); !got.Equal(want) {
		t.Errorf("NotAfter: got %v, want %v", got, want)
	}
	if leaf.IsCA {
		t.Error("IsCA: got true, want a leaf certificate")
	}
	roots := x509.NewCertPool()
	roots.AddCert(leaf)
	for _, h := range []string{"localhost", "127.0.0.1", "::1", "rempart.example", "192.0.2.10"} {
		if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, DNSName: h, CurrentTime: now}); err != nil {
			t.Errorf("verify for %s: got %v, want success", h, err)
		}
	}
	if err := leaf.VerifyHostname("other.example"); err == nil {
		t.Error("VerifyHostname(other.example): got success, want failure")
	}

	keyPEM, _ := os.ReadFile(kf)
	_, fp2, created, err := httpsrv.LoadOrCreateCertificate(cf, kf, nil, now.Add(time.Hour))
	if err != nil || created || fp2 != fp {
		t.Fatalf("second call: got fingerprint %s created=%v err=%v, want %s created=false", fp2, created, err, fp)
	}
	if again, _ := os.ReadFile(kf); !bytes.Equal(again, keyPEM) {
		t.Error("second call rewrote the key")
	}

	for _, mode := range []os.FileMode{0o644, 0o640, 0o604} {
		os.Chmod(kf, mode)
		_, _, _, err := httpsrv.LoadOrCreateCertificate(cf, kf, nil, now)
		if err == nil || !strings.Contains(err.Error(), "chmod 600") {
			t.Errorf("key with mode %#o: got %v, want a refusal asking for chmod 600", mode, err)
		}
	}
	os.Chmod(kf, 0o600)

	os.Remove(cf)
	if _, _, _, err := httpsrv.LoadOrCreateCertificate(cf, kf, nil, now); err == nil || !strings.Contains(err.Error(), "certificate "+cf+" does not") {
		t.Errorf("key without certificate: got %v, want a refusal naming the certificate", err)
	}
	if _, err := os.Stat(cf); err == nil {
		t.Error("key without certificate: a certificate was created")
	}
}

func TestLoadOrCreateCertificateOnlyCertificate(t *testing.T) {
	dir := t.TempDir()
	cf, kf := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	os.WriteFile(cf, []byte("operator's certificate"), 0o644)
	_, _, _, err := httpsrv.LoadOrCreateCertificate(cf, kf, nil, time.Now())
	if err == nil || !strings.Contains(err.Error(), "key "+kf+" does not") {
		t.Fatalf("certificate without key: got %v, want a refusal naming the key", err)
	}
	if got, _ := os.ReadFile(cf); string(got) != "operator's certificate" {
		t.Errorf("certificate: got %q, want it untouched", got)
	}
}

func TestLoadOrCreateCertificateErrors(t *testing.T) {
	dir := t.TempDir()
	cf, kf := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	if _, _, _, err := httpsrv.LoadOrCreateCertificate(cf, kf, []string{"bad host/x"}, time.Now()); err == nil || !strings.Contains(err.Error(), "invalid host name") {
		t.Errorf("invalid host: got %v, want an invalid host name error", err)
	}
	// The certificate cannot be written: the key must not be left behind,
	// or the next start would refuse a lone key.
	missing := filepath.Join(dir, "missing", "tls.crt")
	if _, _, _, err := httpsrv.LoadOrCreateCertificate(missing, kf, nil, time.Now()); err == nil {
		t.Error("unwritable certificate: got success, want an error")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 0 {
		t.Errorf("files left after failures: got %d, want 0", len(entries))
	}
	os.WriteFile(cf, []byte("not PEM"), 0o644)
	os.WriteFile(kf, []byte("not PEM"), 0o600)
	if _, _, _, err := httpsrv.LoadOrCreateCertificate(cf, kf, nil, time.Now()); err == nil {
		t.Error("garbage pair: got success, want an error")
	}
}

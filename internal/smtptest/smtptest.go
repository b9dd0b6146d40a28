// Package smtptest runs a real SMTP server for tests: a private Postfix
// instance (its own configuration, queue and data directories under the
// test's temporary directory) listening on a free loopback port and
// delivering every message for the domain example.test to one Maildir that
// the test reads.
//
// Install Postfix on Debian without letting it configure the host's mail:
//
//	echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
//	DEBIAN_FRONTEND=noninteractive apt-get install -y postfix sasl2-bin
//
// Postfix's master runs as root (the tests do), its daemons as the postfix
// user. Tests that need the server skip when Postfix is absent or the test
// is not root, except under CI (the environment variable CI is non-empty),
// where that fails them.
//
// Two recipients answer as a busy or a strict server would:
// Temporary (450, try again later) and Rejected (550, no such user).
package smtptest

import (
	"bufio"
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/mail"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Recipients with a scripted answer.
const (
	Domain    = "example.test"
	Temporary = "busy@example.test"   // 450 4.2.0: try again later
	Rejected  = "nobody@example.test" // 550 5.1.1: no such user
)

// Install is how CI installs the server (sasl2-bin for Options.User).
const Install = `echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections && apt-get install -y postfix sasl2-bin`

// Options choose how the server behaves.
type Options struct {
	// NoTLS makes the server offer no STARTTLS, as an old or misconfigured
	// relay would.
	NoTLS bool
	// User and Password, when set, make the server require SASL
	// authentication (PLAIN, over TLS only) before it accepts a message;
	// it needs Cyrus SASL's saslpasswd2 (Debian package sasl2-bin).
	User, Password string
}

// Server is a running Postfix instance.
type Server struct {
	Host string // 127.0.0.1
	Port int
	// RootCAs trusts the server's certificate (a fresh self-signed one for
	// 127.0.0.1), nil with NoTLS.
	RootCAs *x509.CertPool
	// CAFile is the PEM file of that certificate, "" with NoTLS.
	CAFile string

	dir, conf string
	running   bool
}

// Start starts a Postfix instance for the test; it stops when the test ends.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	require(t, opts.User != "")
	pf, err := user.Lookup("postfix")
	if err != nil {
		t.Fatalf("smtptest: no postfix user: %v", err)
	}
	dir := t.TempDir()
	// The daemons run as the postfix user and must reach their directories.
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	s := &Server{Host: "127.0.0.1", dir: dir, conf: filepath.Join(dir, "conf")}
	for _, d := range []string{"conf", "queue", "data", "mail"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	uid, _ := strconv.Atoi(pf.Uid)
	gid, _ := strconv.Atoi(pf.Gid)
	for _, d := range []string{"data", "mail"} {
		if err := os.Chown(filepath.Join(dir, d), uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	tlsConf := "smtpd_tls_security_level = none\n"
	if !opts.NoTLS {
		cert, err := writeCert(s.conf)
		if err != nil {
			t.Fatal(err)
		}
		s.RootCAs = x509.NewCertPool()
		s.RootCAs.AddCert(cert)
		s.CAFile = filepath.Join(s.conf, "cert.pem")
		tlsConf = fmt.Sprintf("smtpd_tls_security_level = may\nsmtpd_tls_cert_file = %[1]s/cert.pem\nsmtpd_tls_key_file = %[1]s/key.pem\n", s.conf)
	}
	relay := "permit_mynetworks, reject_unauth_destination"
	if opts.User != "" {
		sasl, err := s.addUser(opts.User, opts.Password, uid, gid)
		if err != nil {
			t.Fatal(err)
		}
		tlsConf += sasl
		relay = "permit_sasl_authenticated, reject"
	}
	master, err := os.ReadFile("/usr/share/postfix/master.cf.dist")
	if err != nil {
		t.Fatalf("smtptest: %v", err)
	}
	t.Cleanup(func() { s.stop() })
	for range 3 { // another process may take the free port before Postfix binds it
		s.Port = freePort(t)
		if err = s.configure(master, tlsConf, relay, uid, gid); err != nil {
			t.Fatal(err)
		}
		if err = s.start(); err == nil {
			return s
		}
	}
	t.Fatalf("smtptest: start postfix: %v\n%s", err, s.Log())
	return nil
}

func (s *Server) configure(master []byte, tlsConf, relay string, uid, gid int) error {
	main := fmt.Sprintf(`compatibility_level = 3.6
queue_directory = %[1]s/queue
data_directory = %[1]s/data
command_directory = /usr/sbin
daemon_directory = /usr/lib/postfix/sbin
meta_directory = /etc/postfix
shlib_directory = /usr/lib/postfix
mail_owner = postfix
setgid_group = postdrop
myhostname = smtp.localhost
mydomain = localhost
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
maillog_file_prefixes = %[1]s
maillog_file = %[1]s/maillog
alias_maps =
alias_database =
smtputf8_enable = no
virtual_mailbox_domains = %[2]s
virtual_mailbox_base = %[1]s/mail
virtual_mailbox_maps = static:inbox/
virtual_uid_maps = static:%[3]d
virtual_gid_maps = static:%[4]d
smtpd_recipient_restrictions = check_recipient_access inline:{ {%[5]s=450 4.2.0 try again later}, {%[6]s=550 5.1.1 no such user} }, %[7]s
`, s.dir, Domain, uid, gid, Temporary, Rejected, relay) + tlsConf
	var mc bytes.Buffer
	sc := bufio.NewScanner(bytes.NewReader(master))
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "smtp ") && strings.Contains(line, " inet ") {
			line = fmt.Sprintf("127.0.0.1:%d inet n - n - - smtpd", s.Port)
		}
		mc.WriteString(line + "\n")
	}
	if err := os.WriteFile(filepath.Join(s.conf, "main.cf"), []byte(main), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(s.conf, "master.cf"), mc.Bytes(), 0o644)
}

// start runs postfix and waits until its SMTP port answers with a greeting.
// The master daemonizes (it starts a session of its own); stop ends it
// through its pid file.
func (s *Server) start() error {
	if out, err := exec.Command("postfix", "-c", s.conf, "start").CombinedOutput(); err != nil {
		return fmt.Errorf("postfix start: %v: %s", err, out)
	}
	s.running = true
	deadline := time.Now().Add(60 * time.Second) // a loaded CI machine starts Postfix slowly
	for time.Now().Before(deadline) {
		c, err := net.DialTimeout("tcp", s.Addr(), time.Second)
		if err == nil {
			c.SetDeadline(time.Now().Add(5 * time.Second))
			line, err := bufio.NewReader(c).ReadString('\n')
			c.Close()
			if err == nil && strings.HasPrefix(line, "220") {
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	s.stop()
	return fmt.Errorf("postfix did not answer on %s", s.Addr())
}

// stop stops the instance and waits until its master has exited, killing
// it if it does not stop in time, so that no process outlives the test.
func (s *Server) stop() {
	if !s.running {
		return
	}
	s.running = false
	pid := 0
	for range 50 { // a master still starting has not written its pid yet
		if b, err := os.ReadFile(filepath.Join(s.dir, "queue", "pid", "master.pid")); err == nil {
			if pid, _ = strconv.Atoi(strings.TrimSpace(string(b))); pid > 0 {
				break
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	exec.Command("postfix", "-c", s.conf, "stop").Run()
	if pid <= 0 {
		return
	}
	for range 200 {
		if syscall.Kill(pid, 0) != nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	syscall.Kill(pid, syscall.SIGKILL)
}

// Addr is host:port.
func (s *Server) Addr() string { return net.JoinHostPort(s.Host, strconv.Itoa(s.Port)) }

// Log is the instance's mail log, for failure messages.
func (s *Server) Log() string {
	b, _ := os.ReadFile(filepath.Join(s.dir, "maillog"))
	return string(b)
}

// Message is one delivered message.
type Message struct {
	*mail.Message
	Raw []byte
}

// Messages returns the messages delivered so far, oldest first.
func (s *Server) Messages(t testing.TB) []Message {
	t.Helper()
	var out []Message
	dir := filepath.Join(s.dir, "mail", "inbox", "new")
	entries, err := os.ReadDir(dir)
	if os.IsNotExist(err) {
		return nil
	} else if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries { // names start with the delivery time
		raw, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		m, err := mail.ReadMessage(bytes.NewReader(raw))
		if err != nil {
			t.Fatalf("smtptest: delivered message %s does not parse: %v", e.Name(), err)
		}
		out = append(out, Message{Message: m, Raw: raw})
	}
	return out
}

// Wait waits (up to 30s) until n messages have been delivered and returns
// them.
func (s *Server) Wait(t testing.TB, n int) []Message {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ms := s.Messages(t)
		if len(ms) >= n {
			return ms
		}
		if time.Now().After(deadline) {
			t.Fatalf("smtptest: %d message(s) delivered after 30s, want %d; mail log:\n%s", len(ms), n, s.Log())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// require skips (fails under CI) without Postfix or root.
func require(t testing.TB, sasl bool) {
	t.Helper()
	msg := ""
	if _, err := exec.LookPath("saslpasswd2"); err != nil && sasl {
		if _, err := os.Stat("/usr/sbin/saslpasswd2"); err != nil {
			msg = "saslpasswd2 not installed; install it with: " + Install
		}
	}
	if _, err := exec.LookPath("postfix"); err != nil {
		if _, err := os.Stat("/usr/sbin/postfix"); err != nil {
			msg = "postfix not installed; install it with: " + Install
		} else {
			os.Setenv("PATH", os.Getenv("PATH")+":/usr/sbin")
		}
	}
	if msg == "" && os.Geteuid() != 0 {
		msg = "a private Postfix instance needs root"
	}
	if msg == "" {
		return
	}
	if os.Getenv("CI") != "" {
		t.Fatal("smtptest: " + msg + " (CI must not skip this test)")
	}
	t.Skip("smtptest: " + msg)
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// writeCert writes a self-signed certificate for 127.0.0.1 and localhost,
// and its key, to dir.
func writeCert(dir string) (*x509.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "smtptest"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:              []string{"localhost"},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "cert.pem"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "key.pem"), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		return nil, err
	}
	return cert, nil
}

// saslRealm is the realm of the test users.
const saslRealm = "smtp.localhost"

// addUser creates a Cyrus SASL database with one user and returns the
// Postfix settings that require it.
func (s *Server) addUser(user, password string, uid, gid int) (string, error) {
	// Debian's Postfix reads $config_directory/sasl/smtpd.conf.
	dir := filepath.Join(s.conf, "sasl")
	if err := os.Mkdir(dir, 0o755); err != nil {
		return "", err
	}
	db := filepath.Join(dir, "sasldb2")
	conf := fmt.Sprintf("pwcheck_method: auxprop\nauxprop_plugin: sasldb\nmech_list: PLAIN LOGIN\nsasldb_path: %s\n", db)
	if err := os.WriteFile(filepath.Join(dir, "smtpd.conf"), []byte(conf), 0o644); err != nil {
		return "", err
	}
	cmd := exec.Command("saslpasswd2", "-p", "-c", "-f", db, "-u", saslRealm, user)
	cmd.Stdin = strings.NewReader(password)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("saslpasswd2 (Debian package sasl2-bin): %v: %s", err, out)
	}
	if err := os.Chown(db, uid, gid); err != nil {
		return "", err
	}
	return fmt.Sprintf(`smtpd_sasl_auth_enable = yes
smtpd_sasl_type = cyrus
smtpd_sasl_path = smtpd
cyrus_sasl_config_path = %s
smtpd_sasl_local_domain = %s
smtpd_tls_auth_only = yes
`, dir, saslRealm), nil
}

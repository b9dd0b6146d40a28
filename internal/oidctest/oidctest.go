// Package oidctest runs a real OpenID provider for tests: the portal of
// LemonLDAP::NG (https://lemonldap-ng.org) from the Debian packages, served by
// plackup with Starman on a free loopback port, with its demo user database (dwho, rtyler
// and msmith, whose passwords are their names) and its OpenID Connect issuer
// enabled for the relying parties a test declares. Its configuration is
// generated per provider under a temporary directory. StartSAML turns its
// SAML 2.0 issuer (identity provider) on instead, for service providers whose
// metadata a test gives (see saml.go).
//
// Install it with
//
//	apt-get install --no-install-recommends liblemonldap-ng-portal-perl libplack-perl \
//	  libstring-random-perl libgd-securityimage-perl libimage-magick-perl libio-string-perl \
//	  libcrypt-openssl-bignum-perl libcrypt-openssl-rsa-perl libcrypt-openssl-x509-perl \
//	  libcrypt-urandom-perl
//
// Tests that need it skip when it is absent, except under CI (the environment
// variable CI is non-empty), where its absence fails them.
package oidctest

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// Install is the command that installs the provider.
const Install = "apt-get install --no-install-recommends liblemonldap-ng-portal-perl libplack-perl starman libstring-random-perl libgd-securityimage-perl libimage-magick-perl libio-string-perl libcrypt-openssl-bignum-perl libcrypt-openssl-rsa-perl libcrypt-openssl-x509-perl libcrypt-urandom-perl"

const portalPSGI = "/usr/share/lemonldap-ng/portal/htdocs/index.psgi"

// Demo users of the provider: login → (email, groups). The password of each
// is its login.
var Users = map[string]struct {
	Email  string
	Groups []string
}{
	"dwho":   {"dwho@badwolf.org", []string{"timelords", "users"}},
	"rtyler": {"rtyler@badwolf.org", []string{"earthlings", "users"}},
	"msmith": {"msmith@badwolf.org", []string{"earthlings", "users"}},
}

// Client is a relying party declared to the provider.
type Client struct {
	ID, Secret  string
	RedirectURI string
}

// Provider is a running OpenID provider.
type Provider struct {
	// Issuer is the provider's issuer URL (http://127.0.0.1:PORT); its
	// discovery document is at Issuer+"/.well-known/openid-configuration".
	Issuer string

	cmd  *exec.Cmd
	done chan struct{}
	logs *lockedBuffer
	once sync.Once
}

// Available reports whether the provider can be run here.
func Available() bool {
	if _, err := exec.LookPath("plackup"); err != nil {
		return false
	}
	if _, err := exec.LookPath("starman"); err != nil {
		return false
	}
	_, err := os.Stat(portalPSGI)
	return err == nil
}

// Start runs a provider that knows clients, and stops it when the test ends.
// Without the provider installed the test is skipped, or fails under CI.
func Start(t testing.TB, clients ...Client) *Provider {
	t.Helper()
	return start(t, clients, nil)
}

func start(t testing.TB, clients []Client, sps []string) *Provider {
	t.Helper()
	if !Available() {
		if os.Getenv("CI") != "" {
			t.Fatalf("the OpenID provider (LemonLDAP::NG portal, plackup) is required under CI; install it with: %s", Install)
		}
		t.Skipf("no OpenID provider (LemonLDAP::NG portal, plackup); install it with: %s", Install)
	}
	dir := t.TempDir()
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	issuer := fmt.Sprintf("http://127.0.0.1:%d", port)
	if err := writeConfig(dir, issuer, clients, sps); err != nil {
		t.Fatal(err)
	}
	p := &Provider{Issuer: issuer, done: make(chan struct{}), logs: new(lockedBuffer)}
	// Starman serves several connections at once: a browser's idle
	// connections must not hold up the relying party's token request.
	p.cmd = exec.Command("plackup", "-s", "Starman", "--workers", "3", "--host", "127.0.0.1", "--port", fmt.Sprint(port), "--no-default-middleware", filepath.Join(dir, "app.psgi"))
	p.cmd.Env = append(os.Environ(), "LLNG_DEFAULTCONFFILE="+filepath.Join(dir, "lemonldap-ng.ini"))
	p.cmd.Dir = dir
	p.cmd.Stdout, p.cmd.Stderr = p.logs, p.logs
	setProcAttr(p.cmd)
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(p.stop)
	if err := p.waitReady(30 * time.Second); err != nil {
		p.stop()
		t.Fatalf("OpenID provider: %v\n%s", err, p.logs.String())
	}
	return p
}

func (p *Provider) stop() {
	p.once.Do(func() {
		_ = p.cmd.Process.Signal(terminate)
		select {
		case <-p.done:
		case <-time.After(5 * time.Second):
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	})
}

func (p *Provider) waitReady(limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		select {
		case <-p.done:
			return errors.New("exited")
		default:
		}
		resp, err := http.Get(p.Issuer + "/.well-known/openid-configuration")
		if err == nil {
			var doc struct{ Issuer string }
			err = json.NewDecoder(resp.Body).Decode(&doc)
			resp.Body.Close()
			if err == nil && doc.Issuer == p.Issuer {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not ready after %s: %v", limit, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func writeConfig(dir, issuer string, clients []Client, sps []string) error {
	for _, d := range []string{"conf", "sessions/lock", "psessions/lock", "cache", "notifications"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o700); err != nil {
			return err
		}
	}
	ini := fmt.Sprintf(`[all]
logLevel = warn
checkTime = 1
[configuration]
type = File
dirName = %[1]s/conf
[portal]
staticPrefix = /static
templateDir = /usr/share/lemonldap-ng/portal/templates
languages = en
`, dir)
	if err := os.WriteFile(filepath.Join(dir, "lemonldap-ng.ini"), []byte(ini), 0o600); err != nil {
		return err
	}
	// The portal with the static files a web server would serve beside it:
	// its scripts (such as the one that posts a SAML response on) and the
	// Debian packaged libraries they use.
	app := `use Plack::Builder;
use Plack::App::File;
use Plack::Util;
my $portal = Plack::Util::load_psgi("` + portalPSGI + `");
builder {
	mount "/static" => Plack::App::File->new(root => "/usr/share/lemonldap-ng/portal/htdocs/static")->to_app;
	mount "/javascript" => Plack::App::File->new(root => "/usr/share/javascript")->to_app;
	mount "/" => $portal;
};
`
	if err := os.WriteFile(filepath.Join(dir, "app.psgi"), []byte(app), 0o600); err != nil {
		return err
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return err
	}
	pub, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return err
	}
	options, vars := map[string]any{}, map[string]any{}
	for i, c := range clients {
		name := fmt.Sprintf("rp%d", i+1)
		options[name] = map[string]any{
			"oidcRPMetaDataOptionsClientID":              c.ID,
			"oidcRPMetaDataOptionsClientSecret":          c.Secret,
			"oidcRPMetaDataOptionsRedirectUris":          c.RedirectURI,
			"oidcRPMetaDataOptionsRequirePKCE":           1,
			"oidcRPMetaDataOptionsIDTokenSignAlg":        "RS256",
			"oidcRPMetaDataOptionsBypassConsent":         1,
			"oidcRPMetaDataOptionsIDTokenForceClaims":    1,
			"oidcRPMetaDataOptionsIDTokenExpiration":     300,
			"oidcRPMetaDataOptionsAccessTokenExpiration": 300,
		}
		vars[name] = map[string]any{"email": "mail", "name": "cn", "groups": "groups;string;always"}
	}
	conf := map[string]any{
		"authentication": "Demo", "userDB": "Same", "passwordDB": "Demo",
		"cfgNum": 1, "cfgAuthor": "oidctest", "cfgDate": fmt.Sprint(time.Now().Unix()), "cfgVersion": "2.16.1",
		"cookieName": "lemonldap", "domain": "127.0.0.1", "securedCookie": 0, "portal": issuer + "/",
		"demoExportedVars": map[string]any{"cn": "cn", "mail": "mail", "uid": "uid"},
		"exportedVars":     map[string]any{}, "groups": map[string]any{}, "macros": map[string]any{"_whatToTrace": "lc($_user)"},
		"whatToTrace": "_whatToTrace", "timeout": 3600, "loginHistoryEnabled": 0, "notification": 0,
		"globalStorage": "Apache::Session::File",
		"globalStorageOptions": map[string]any{"Directory": dir + "/sessions", "LockDirectory": dir + "/sessions/lock",
			"generateModule": "Lemonldap::NG::Common::Apache::Session::Generate::SHA256"},
		"persistentStorage":        "Apache::Session::File",
		"persistentStorageOptions": map[string]any{"Directory": dir + "/psessions", "LockDirectory": dir + "/psessions/lock"},
		"localSessionStorage":      "Cache::FileCache",
		"localSessionStorageOptions": map[string]any{"cache_root": dir + "/cache", "cache_depth": 3, "default_expires_in": 600,
			"directory_umask": "007", "namespace": "lemonldap-ng-sessions"},
		"locationRules":                         map[string]any{},
		"issuerDBOpenIDConnectActivation":       1,
		"issuerDBOpenIDConnectPath":             "^/oauth2/",
		"oidcServiceMetaDataIssuer":             issuer,
		"oidcServiceIgnoreScopeForClaims":       1,
		"oidcServiceAllowAuthorizationCodeFlow": 1,
		"oidcServicePrivateKeySig":              string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})),
		"oidcServicePublicKeySig":               string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub})),
		"oidcServiceKeyIdSig":                   "oidctest",
		"oidcRPMetaDataExportedVars":            vars,
		"oidcRPMetaDataOptions":                 options,
		"oidcRPMetaDataMacros":                  map[string]any{},
		"requireToken":                          0,
		"portalSkin":                            "bootstrap",
	}
	if len(sps) > 0 {
		if err := samlConfig(conf, sps); err != nil {
			return err
		}
	}
	b, err := json.MarshalIndent(conf, "", " ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "conf", "lmConf-1.json"), b, 0o600)
}

var (
	formRE   = regexp.MustCompile(`(?is)<form[^>]*>.*?</form>`)
	actionRE = regexp.MustCompile(`(?i)action="([^"]*)"`)
	inputRE  = regexp.MustCompile(`(?i)<input[^>]*>`)
	attrRE   = regexp.MustCompile(`(?i)(name|value|type)="([^"]*)"`)
)

// LogIn follows authURL (the relying party's authorisation request) with
// client, signs in at the provider's login form as user with password, and
// returns where the provider then sends the browser: the relying party's
// redirect URI with the code and state, which it does not follow. client
// needs a cookie jar; its redirects are handled here.
func (p *Provider) LogIn(ctx context.Context, client *http.Client, authURL, user, password string) (*url.URL, error) {
	next, page, err := p.logIn(ctx, client, authURL, nil, user, password)
	if err == nil && page != nil {
		err = fmt.Errorf("provider answered %s without a redirect: %.400s", page.status, page.body)
	}
	return next, err
}

// page is a page of the provider that is neither a redirect nor its login form.
type page struct {
	url    *url.URL
	status string
	body   []byte
}

// logIn signs in at the provider, first posting form to authURL if it is
// not nil, and returns either the first URL outside the provider it
// redirects to or, once the credentials are accepted, the first page that
// is not a redirect (such as a form posting a SAML response).
func (p *Provider) logIn(ctx context.Context, client *http.Client, authURL string, first url.Values, user, password string) (*url.URL, *page, error) {
	c := *client
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	next, err := url.Parse(authURL)
	if err != nil {
		return nil, nil, err
	}
	form := first
	posted := false
	for hops := 0; hops < 20; hops++ {
		if !strings.HasPrefix(next.String(), p.Issuer+"/") {
			return next, nil, nil // leaving the provider: the redirect to the relying party
		}
		var req *http.Request
		if form != nil {
			req, err = http.NewRequestWithContext(ctx, http.MethodPost, next.String(), strings.NewReader(form.Encode()))
			if err == nil {
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			}
			form = nil
		} else {
			req, err = http.NewRequestWithContext(ctx, http.MethodGet, next.String(), nil)
		}
		if err != nil {
			return nil, nil, err
		}
		req.Header.Set("Accept", "text/html")
		resp, err := c.Do(req)
		if err != nil {
			return nil, nil, err
		}
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		if loc := resp.Header.Get("Location"); resp.StatusCode/100 == 3 && loc != "" {
			if next, err = next.Parse(loc); err != nil {
				return nil, nil, err
			}
			continue
		}
		f := formRE.Find(body)
		if f == nil || !bytes.Contains(bytes.ToLower(f), []byte(`name="password"`)) {
			if posted && resp.StatusCode == http.StatusOK {
				return nil, &page{url: next, status: resp.Status, body: body}, nil
			}
			return nil, nil, fmt.Errorf("provider answered %s without a login form or redirect: %.400s", resp.Status, body)
		}
		if posted {
			return nil, nil, errors.New("provider refused the credentials")
		}
		posted = true
		form = url.Values{}
		for _, in := range inputRE.FindAll(f, -1) {
			attrs := map[string]string{}
			for _, m := range attrRE.FindAllSubmatch(in, -1) {
				attrs[strings.ToLower(string(m[1]))] = html.UnescapeString(string(m[2]))
			}
			if attrs["name"] != "" && attrs["type"] == "hidden" {
				form.Set(attrs["name"], attrs["value"])
			}
		}
		form.Set("user", user)
		form.Set("password", password)
		if m := actionRE.FindSubmatch(f); m != nil && string(m[1]) != "#" && string(m[1]) != "" {
			if next, err = next.Parse(html.UnescapeString(string(m[1]))); err != nil {
				return nil, nil, err
			}
		}
	}
	return nil, nil, errors.New("too many redirects at the provider")
}

// lockedBuffer collects the provider's output, written by the process's
// copying goroutines while a test may read it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

package web_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/rempart/rempart/web"
)

// console is the console over fake services, driven through its handler.
type console struct {
	t          *testing.T
	h          http.Handler
	sessions   *fakeSessions
	tenants    *fakeTenants
	accounts   *fakeAccounts
	audit      *fakeAudit
	keys       *fakeKeys
	tenantKeys *fakeTenantKeys
	retention  *fakeRetention
	backups    *fakeBackups
	reviews    *fakeReviews
	mfa        *fakeMFA
}

func newConsole(t *testing.T) *console {
	t.Helper()
	c := &console{t: t, sessions: newFakeSessions(), tenants: newFakeTenants(), accounts: newFakeAccounts(),
		audit: &fakeAudit{}, keys: &fakeKeys{}, tenantKeys: &fakeTenantKeys{}, retention: &fakeRetention{}, backups: &fakeBackups{}, reviews: newFakeReviews()}
	c.mfa = &fakeMFA{sessions: c.sessions}
	c.h = web.New(web.Config{Sessions: c.sessions, Tenants: c.tenants, Accounts: c.accounts, Audit: c.audit,
		Keys: c.keys, TenantKeys: c.tenantKeys, Retention: c.retention, Backups: c.backups, Jobs: fakeJobs{}, MFA: c.mfa, Reviews: c.reviews,
		CSRFKey: []byte("0123456789abcdef0123456789abcdef")})
	return c
}

// request is one request to the console; session is the session token
// ("" for none).
type request struct {
	method, path, session string
	form                  url.Values
	header                map[string]string
	cookies               []*http.Cookie
}

type response struct {
	*http.Response
	body string
}

func (c *console) do(q request) response {
	c.t.Helper()
	var body io.Reader
	if q.form != nil {
		body = strings.NewReader(q.form.Encode())
	}
	method := q.method
	if method == "" {
		method = http.MethodGet
	}
	r := httptest.NewRequest(method, "https://console.example"+q.path, body)
	if q.form != nil {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range q.header {
		r.Header.Set(k, v)
	}
	if q.session != "" {
		r.AddCookie(&http.Cookie{Name: "__Host-rempart-session", Value: q.session})
	}
	for _, ck := range q.cookies {
		r.AddCookie(ck)
	}
	w := httptest.NewRecorder()
	c.h.ServeHTTP(w, r)
	res := w.Result()
	b, _ := io.ReadAll(res.Body)
	return response{Response: res, body: string(b)}
}

func (c *console) get(path, session string) response {
	c.t.Helper()
	return c.do(request{path: path, session: session})
}

// post submits a form with the session's CSRF token, as the console's own
// pages would.
func (c *console) post(path, session string, form url.Values) response {
	c.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	form.Set("csrf", c.csrf(session))
	return c.do(request{method: http.MethodPost, path: path, session: session, form: form})
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf returns the CSRF token that the home page's forms carry.
func (c *console) csrf(session string) string {
	c.t.Helper()
	res := c.get("/", session)
	m := csrfRE.FindStringSubmatch(res.body)
	if m == nil {
		c.t.Fatalf("no CSRF token on the home page (status %d)", res.StatusCode)
	}
	return m[1]
}

func (r response) cookie(name string) *http.Cookie {
	for _, ck := range r.Cookies() {
		if ck.Name == name {
			return ck
		}
	}
	return nil
}

func wantStatus(t *testing.T, r response, want int) {
	t.Helper()
	if r.StatusCode != want {
		t.Fatalf("status: got %d, want %d\n%s", r.StatusCode, want, r.body)
	}
}

func wantLocation(t *testing.T, r response, want string) {
	t.Helper()
	if got := r.Header.Get("Location"); got != want {
		t.Fatalf("Location: got %q, want %q (status %d)", got, want, r.StatusCode)
	}
}

func wantBody(t *testing.T, r response, must []string, mustNot []string) {
	t.Helper()
	for _, s := range must {
		if !strings.Contains(r.body, s) {
			t.Errorf("body lacks %q", s)
		}
	}
	for _, s := range mustNot {
		if strings.Contains(r.body, s) {
			t.Errorf("body holds %q", s)
		}
	}
}

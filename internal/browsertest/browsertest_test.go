package browsertest_test

import (
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/rempart/rempart/internal/browsertest"
)

const strictCSP = "default-src 'none'; script-src 'self'; style-src 'self'"

func pages() http.Handler {
	mux := http.NewServeMux()
	page := func(body string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Security-Policy", strictCSP)
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Write([]byte("<!doctype html><html><head><title>t</title></head><body>" + body + "</body></html>"))
		}
	}
	mux.HandleFunc("/clean", page(`<h1 id="h">clean</h1><script src="/ok.js"></script>`))
	mux.HandleFunc("/dirty", page(`<h1 id="h" style="color:red">dirty</h1><script>document.title = "ran"</script>`))
	mux.HandleFunc("/ok.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript")
		w.Write([]byte(`console.log("external script ran");`))
	})
	mux.HandleFunc("/empty", page(`<p id="p">webauthn</p>`))
	return mux
}

// The violation check must see a violation, or a clean run of the console's
// browser test would prove nothing.
func TestCSPViolationsAreCaught(t *testing.T) {
	b := browsertest.New(t)
	srv := httptest.NewTLSServer(pages())
	defer srv.Close()

	b.Run(chromedp.Navigate(srv.URL+"/clean"), chromedp.WaitVisible("#h"))
	if v := b.CSPViolations(); len(v) != 0 {
		t.Fatalf("clean page: got violations %q, want none", v)
	}
	var ran bool
	for _, m := range b.Messages() {
		ran = ran || m.Text == "external script ran"
	}
	if !ran {
		t.Fatal("the page's own script did not run (or its console message was lost)")
	}

	b.Run(chromedp.Navigate(srv.URL+"/dirty"), chromedp.WaitVisible("#h"))
	v := b.CSPViolations()
	joined := strings.Join(v, "\n")
	if !strings.Contains(joined, "script-src") || !strings.Contains(joined, "style-src") {
		t.Fatalf("dirty page: got violations %q, want the inline script and style", v)
	}
	if title := browsertest.Get(b, chromedp.Title()); title == "ran" {
		t.Fatal("the inline script ran despite the CSP")
	}
}

// A virtual authenticator makes and keeps a resident credential without a
// person, for the security-key tests to come.
func TestVirtualAuthenticator(t *testing.T) {
	b := browsertest.New(t)
	srv := httptest.NewServer(pages())
	defer srv.Close()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	id := b.VirtualAuthenticator()
	b.Run(chromedp.Navigate("http://localhost:"+port+"/empty"), chromedp.WaitVisible("#p"))
	typ := browsertest.Get(b, chromedp.Evaluate[string](`navigator.credentials.create({publicKey: {
		challenge: new Uint8Array(32),
		rp: {name: "rempart", id: "localhost"},
		user: {id: new Uint8Array([1, 2, 3]), name: "ada@example.com", displayName: "Ada"},
		pubKeyCredParams: [{type: "public-key", alg: -7}],
		authenticatorSelection: {residentKey: "required", userVerification: "required"}
	}}).then(function (c) { return c.type; })`, chromedp.EvalAwaitPromise))
	if typ != "public-key" {
		t.Fatalf("credential type: got %q, want public-key", typ)
	}
	creds := b.Credentials(id)
	if len(creds) != 1 || !creds[0].IsResidentCredential || creds[0].RpID != "localhost" {
		t.Fatalf("credentials: got %+v, want one resident credential for localhost", creds)
	}
}

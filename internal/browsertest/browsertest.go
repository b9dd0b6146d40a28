// Package browsertest runs a real headless Chromium for end-to-end tests of
// the console: it starts the browser with the flags this project's machines
// need, records everything the pages write to the console, reports the
// Content-Security-Policy violations among them, and sets up a virtual
// WebAuthn authenticator for security-key tests.
//
// A test that needs the browser calls New. Without Chromium it skips, unless
// the environment variable CI is set: then it fails, so that CI never passes
// by skipping. REMPART_CHROMIUM names another Chromium binary.
package browsertest

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// DefaultPath is where Debian's chromium package installs the browser.
const DefaultPath = "/usr/bin/chromium"

// Timeout bounds each Run: it catches a hung page, not a slow one, so it
// is generous for a machine busy with other tests.
const Timeout = 60 * time.Second

// Browser is one headless Chromium with one tab.
type Browser struct {
	t   testing.TB
	ctx context.Context

	mu       sync.Mutex
	messages []chromedp.ConsoleMessage
	seen     chan struct{} // signalled on each message
	flushes  int
}

// cspWatch runs in every document before the page's own scripts (DevTools
// injects it; the page's CSP does not apply to it) and writes each
// securitypolicyviolation event to the console.
const cspWatch = `document.addEventListener('securitypolicyviolation', function (e) {
	console.error('CSP violation: ' + e.effectiveDirective + ' blocked ' + (e.blockedURI || 'inline') +
		' in ' + e.sourceFile + ':' + e.lineNumber);
}, true);`

// cspPrefix starts the messages of cspWatch.
const cspPrefix = "CSP violation: "

// Path returns the Chromium binary the tests use.
func Path() string {
	if p := os.Getenv("REMPART_CHROMIUM"); p != "" {
		return p
	}
	return DefaultPath
}

// New starts Chromium for the test and stops it when the test ends. It
// skips the test when Chromium is absent, but fails it under CI.
func New(t testing.TB) *Browser {
	t.Helper()
	path := Path()
	if _, err := os.Stat(path); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("Chromium is required under CI: %v (apt-get install chromium)", err)
		}
		t.Skipf("no Chromium at %s (apt-get install chromium, or set REMPART_CHROMIUM): skipping the browser test", path)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox, // the tests run as root
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-sync", true),
		// Test servers use httptest's self-signed certificate.
		chromedp.Flag("ignore-certificate-errors", true),
		chromedp.UserDataDir(t.TempDir()),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(actx, chromedp.WithErrorf(t.Logf))
	t.Cleanup(func() {
		cancelTab()
		cancelAlloc()
	})
	b := &Browser{t: t, ctx: ctx, seen: make(chan struct{}, 1)}
	// The first Do starts the browser, which lives as long as the context
	// of that call: the tab's own context, not one with a deadline.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: cspWatch}); err != nil {
		t.Fatalf("install the CSP watch: %v", err)
	}
	// Headless windows have no focus of their own; keyboard tests need it.
	if _, err := chromedp.Call(ctx, emulation.SetFocusEmulationEnabled, emulation.SetFocusEmulationEnabledParams{Enabled: true}); err != nil {
		t.Fatalf("emulate focus: %v", err)
	}
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			b.mu.Lock()
			b.messages = append(b.messages, m)
			b.mu.Unlock()
			select {
			case b.seen <- struct{}{}:
			default:
			}
		}
	}()
	return b
}

// Context is the tab's chromedp context, for actions that Run does not
// cover.
func (b *Browser) Context() context.Context { return b.ctx }

// Run runs the actions in the tab, failing the test on an error.
func (b *Browser) Run(actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, Timeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.t.Fatalf("browser: %v", err)
	}
}

// ClickAndLoad clicks the element (a link or a form's button) and waits
// until the page it leads to has loaded: the old document is marked first,
// so that its elements cannot satisfy the wait.
func (b *Browser) ClickAndLoad(sel string) {
	b.t.Helper()
	b.Run(
		chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			_, err := chromedp.Evaluate[bool](`document.documentElement.dataset.browsertestOld = "1"; true`)(ctx, t)
			return err
		}),
		chromedp.Click(sel),
		chromedp.WaitReady(`html:not([data-browsertest-old]) body`),
	)
}

// Get runs one action that returns a value, failing the test on an error.
func Get[T any](b *Browser, a chromedp.Action[T]) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, Timeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		b.t.Fatalf("browser: %v", err)
	}
	return v
}

// Messages returns every console message of the tab so far: calls of the
// console API, uncaught exceptions and browser log entries (such as
// "Refused to load…"). It first lets the page's pending events run and waits
// until the messages before now have arrived.
func (b *Browser) Messages() []chromedp.ConsoleMessage {
	b.t.Helper()
	b.mu.Lock()
	b.flushes++
	marker := fmt.Sprintf("browsertest flush %d", b.flushes)
	b.mu.Unlock()
	Get(b, chromedp.Evaluate[bool](`new Promise(function (r) { setTimeout(function () { console.debug(`+"`"+marker+"`"+`); r(true); }, 50); })`, chromedp.EvalAwaitPromise))
	deadline := time.After(5 * time.Second)
	for {
		b.mu.Lock()
		var out []chromedp.ConsoleMessage
		found := false
		for _, m := range b.messages {
			if m.Text == marker {
				found = true
			} else if !strings.HasPrefix(m.Text, "browsertest flush ") {
				out = append(out, m)
			}
		}
		b.mu.Unlock()
		if found {
			return out
		}
		select {
		case <-b.seen:
		case <-deadline:
			b.t.Fatal("browser: the console messages did not arrive")
		}
	}
}

// CSPViolations returns the Content-Security-Policy violations the tab saw:
// the page's securitypolicyviolation events and the browser's own reports.
func (b *Browser) CSPViolations() []string {
	b.t.Helper()
	var out []string
	for _, m := range b.Messages() {
		if strings.HasPrefix(m.Text, cspPrefix) || strings.Contains(m.Text, "Content Security Policy") {
			out = append(out, m.String())
		}
	}
	return out
}

// NoCSPViolations fails the test if the tab saw any CSP violation.
func (b *Browser) NoCSPViolations() {
	b.t.Helper()
	for _, v := range b.CSPViolations() {
		b.t.Errorf("CSP violation: %s", v)
	}
}

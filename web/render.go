package web

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/httpsrv"
)

//go:embed templates/*.html
var templateFS embed.FS

// pages are the parsed templates: each page is the layout with the page's
// own "main" block.
type pages struct{ byName map[string]*template.Template }

var funcs = template.FuncMap{
	"ts": func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return t.UTC().Format("2006-01-02 15:04:05 UTC")
	},
	"iso": func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"tsp": func(t *time.Time) string {
		if t == nil {
			return "—"
		}
		return t.UTC().Format("2006-01-02 15:04:05 UTC")
	},
	// words writes a status such as "pending_approval" for people.
	"words": func(s string) string { return strings.ReplaceAll(s, "_", " ") },
	"ms":    formatMillis,
	"bytes": formatBytes,
	"pct": func(done, total int64) int64 {
		if total <= 0 {
			return 0
		}
		return int64(math.Round(100 * float64(min(done, total)) / float64(total)))
	},
}

func mustParsePages() *pages {
	base := template.Must(template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html"))
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		panic(err)
	}
	p := &pages{byName: map[string]*template.Template{}}
	for _, n := range names {
		if n == "templates/layout.html" {
			continue
		}
		t := template.Must(template.Must(base.Clone()).ParseFS(templateFS, n))
		p.byName[strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")] = t
	}
	return p
}

// view is what every page shows around its own content.
type view struct {
	Title     string
	Nav       string // the current section, marked in the navigation
	Me        *rempart.Principal
	CSRF      string
	Alert     string // an error, shown in a role="alert" region
	Notice    string // what the last action did
	RequestID string
	People    bool // the people pages are served
	Retention bool // the retention pages are served
}

// SystemAdmin reports whether the signed-in principal administers the
// deployment.
func (v view) SystemAdmin() bool { return v.Me != nil && v.Me.Role == rempart.RoleSystemAdmin }

// view returns the frame of a page for the visit (nil: signed out).
func (s *server) view(r *http.Request, v *visit, title, nav string) view {
	out := view{Title: title, Nav: nav, RequestID: requestID(r), Notice: notices[r.URL.Query().Get("done")]}
	if v != nil {
		p := v.caller.Principal
		out.Me, out.CSRF = &p, v.csrf
		out.People = s.cfg.People != nil
		out.Retention = s.cfg.Retention != nil
	}
	return out
}

// render writes a page. It renders into a buffer first, so that a template
// error becomes a clean 500 rather than half a page.
func (s *server) render(w http.ResponseWriter, r *http.Request, status int, name string, data any) {
	t, ok := s.pages.byName[name]
	if !ok {
		panic("web: no template " + name)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", data); err != nil {
		s.log.LogAttrs(r.Context(), slog.LevelError, "render failed", slog.String("request_id", requestID(r)), slog.String("page", name), slog.String("error", err.Error()))
		http.Error(w, "Internal error.", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// status returns the HTTP status of err, logging it when it is the server's
// fault (its detail never reaches the page), and sets Retry-After on a rate
// limit.
func (s *server) status(w http.ResponseWriter, r *http.Request, err error) int {
	st := httpsrv.ErrorStatus(w, err)
	if st >= 500 {
		s.log.LogAttrs(r.Context(), slog.LevelError, "request failed", slog.String("request_id", requestID(r)),
			slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.String("error", err.Error()))
	}
	return st
}

type errorPage struct {
	view
	Status  int
	Heading string
}

// renderError answers with an error page: 403 and 404 pages for what the
// caller may not see, the message of client errors as the domain service
// wrote it, a generic message and the request ID for the server's own.
// A session that ended meanwhile sends the browser to sign in again.
func (s *server) renderError(w http.ResponseWriter, r *http.Request, v *visit, err error) {
	if v != nil && rempart.ErrorCode(err) == rempart.EUNAUTHORIZED {
		clearCookie(w, sessionCookie)
		s.toSignIn(w, r)
		return
	}
	if v != nil && rempart.ErrorCode(err) == rempart.EMFAREQUIRED {
		s.stepUp(w, r, v, err)
		return
	}
	st := s.status(w, r, err)
	p := errorPage{view: s.view(r, v, http.StatusText(st), ""), Status: st, Heading: http.StatusText(st)}
	p.Alert = rempart.ErrorMessage(err)
	if st >= 500 {
		p.Alert = fmt.Sprintf("Something went wrong on our side. Quote request %s when you report it.", requestID(r))
	}
	s.render(w, r, st, "error", p)
}

// notices are the fixed messages a redirect after a successful action may
// ask the next page to show (?done=…). Nothing a visitor types is echoed.
var notices = map[string]string{
	"tenant-created":   "Tenant created.",
	"tenant-suspended": "Tenant suspended.",
	"tenant-resumed":   "Tenant resumed.",
	"tenant-deleted":   "Tenant deleted.",
	"account-created":  "Service account created.",
	"key-revoked":      "API key revoked.",
	"root-rotating":    "Root key rotation started; follow it on the jobs page.",
	"tenant-rotating":  "Tenant key rotation started; follow it on the jobs page.",
	"backup-started":   "Backup started; follow it on the jobs page.",
	"verify-started":   "Backup verification started; follow it on the jobs page.",
	"restore-started":  "Restore test started; follow it on the jobs page.",
	"factor-added":     "Second factor added.",
	"factor-removed":   "Second factor removed.",
	"policy-saved":     "Your tenant's second-factor requirement is saved.",

	"invitation-mailed":    "Invitation mailed. The link works once and expires.",
	"invitation-withdrawn": "Invitation withdrawn: its link no longer works.",
	"user-suspended":       "User suspended and signed out everywhere.",
	"user-reactivated":     "User reactivated.",
	"joined":               "Welcome: your account is ready.",
	"password-changed":     "Password changed. Sign in with the new one.",
	"session-revoked":      "Session ended.",
	"sessions-revoked":     "Every other session ended.",

	"customer-key-set":          "The tenant's own key now wraps its key-encryption keys. Keep it available: revoking it makes the tenant's data unreadable.",
	"customer-key-removed":      "The tenant's key-encryption keys are wrapped by the deployment's root key again.",
	"retention-default-set":     "Default retention saved; it applies at once.",
	"retention-default-deleted": "Default removed: the deployment's retention applies to collections without a rule.",
	"retention-rule-set":        "Retention rule saved; it applies at once.",
	"retention-rule-deleted":    "Retention rule deleted: the default applies to that collection again.",
}

// redirect answers a successful form post: 303 to a page, with a notice.
func redirect(w http.ResponseWriter, r *http.Request, path, done string) {
	if done != "" {
		path += "?done=" + done
	}
	http.Redirect(w, r, path, http.StatusSeeOther)
}

func formatMillis(ms int64) string {
	if ms < 1000 {
		return strconv.FormatInt(ms, 10) + " ms"
	}
	return strconv.FormatFloat(float64(ms)/1000, 'f', 1, 64) + " s"
}

func formatBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return strconv.FormatInt(n, 10) + " B"
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return strconv.FormatFloat(float64(n)/float64(div), 'f', 1, 64) + " " + string("KMGTPE"[exp]) + "iB"
}

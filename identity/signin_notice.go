package identity

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"net/netip"
	"strings"
	"time"

	"github.com/rempart/rempart"
)

// New-sign-in notices (ASVS 3.x, IAM-6): a person who signs in from a
// network and browser not seen for them before is told by mail, with when,
// from which address and which browser, and what to do if it was not them.
// What is remembered is a keyed hash of the network (the /24 of an IPv4
// address, the /48 of an IPv6 one) and the browser's family, never the
// address, for the knownNetworks most recent, forgotten after
// networkMemory.
const (
	knownNetworks = 20
	networkMemory = 180 * 24 * time.Hour
)

// networkKey derives the key of the network hashes from the MFA key, a
// deployment secret; nil without one (no new-sign-in notices then).
func networkKey(mfaKey []byte) []byte {
	if len(mfaKey) == 0 {
		return nil
	}
	m := hmac.New(sha256.New, mfaKey)
	m.Write([]byte("rempart/sign-in-networks/v1"))
	return m.Sum(nil)
}

// signInNetwork is the network of an address: its /24 (IPv4) or /48
// (IPv6), or "unknown".
func signInNetwork(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return "unknown"
	}
	a = a.Unmap().WithZone("")
	bits := 48
	if a.Is4() {
		bits = 24
	}
	p, err := a.Prefix(bits)
	if err != nil {
		return "unknown"
	}
	return p.String()
}

// browserFamily names a user agent's browser and system from a fixed
// vocabulary ("Firefox on Linux"), without versions, so that an update
// is not a new browser; a program it does not know is named by its first
// product token, of safe characters only. The result is what the notice
// shows: nothing else of the header, which the signer-in chose, reaches
// the mail.
func browserFamily(ua string) string {
	if len(ua) > 1024 {
		ua = ua[:1024]
	}
	has := func(s ...string) bool {
		for _, x := range s {
			if strings.Contains(ua, x) {
				return true
			}
		}
		return false
	}
	browser := ""
	switch {
	case has("Edg/", "EdgA/", "EdgiOS/"):
		browser = "Edge"
	case has("OPR/", "Opera"):
		browser = "Opera"
	case has("Firefox/", "FxiOS/"):
		browser = "Firefox"
	case has("Chromium/"):
		browser = "Chromium"
	case has("Chrome/", "CriOS/"):
		browser = "Chrome"
	case has("Safari/") && has("Version/"):
		browser = "Safari"
	}
	system := ""
	switch {
	case has("Android"):
		system = "Android"
	case has("iPhone", "iPad", "iPod"):
		system = "iOS"
	case has("CrOS"):
		system = "ChromeOS"
	case has("Windows"):
		system = "Windows"
	case has("Macintosh", "Mac OS X"):
		system = "macOS"
	case has("Linux", "X11"):
		system = "Linux"
	}
	if browser != "" {
		if system == "" {
			return browser
		}
		return browser + " on " + system
	}
	// A product token is "name/version" (RFC 9110): the name only.
	first, _, _ := strings.Cut(strings.TrimSpace(ua), " ")
	product, _, isToken := strings.Cut(first, "/")
	if !isToken || product == "" || len(product) > 32 || strings.ContainsFunc(product, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' || r == '_')
	}) {
		return "an unrecognised program"
	}
	return "a program calling itself " + product
}

// fingerprint is the keyed hash remembered of a network and browser.
func (s *Service) fingerprint(network, family string) []byte {
	m := hmac.New(sha256.New, s.networkKey)
	m.Write([]byte("v1\x00" + network + "\x00" + family))
	return m.Sum(nil)
}

// noticeSignIn records the network and browser of a sign-in of u that
// just opened a session of kind, and queues a notice when they are new
// for u. The first sign-in of an account (its invitation just accepted,
// or its first single sign-on) sends none: there is nothing to compare
// with. Nothing here fails or slows the sign-in beyond two writes: the
// mail is sent by SendNotices.
func (s *Service) noticeSignIn(ctx context.Context, c rempart.Caller, u rempart.User, kind string) {
	if s.cfg.Notices == nil || s.networkKey == nil {
		return
	}
	now := s.clock.Now()
	family := browserFamily(c.UserAgent)
	known, err := s.store.RecordSignIn(ctx, u.ID, s.fingerprint(signInNetwork(c.IP), family), now, now.Add(-networkMemory), knownNetworks)
	if err != nil {
		e := c.Entry(u.TenantID, "account.notice", "users/"+u.ID)
		e.Outcome, e.Reason = rempart.OutcomeFailure, NoticeSignIn+": network not checked ("+rempart.ErrorCode(err)+")"
		_, _ = s.store.Audit(ctx, e)
		return
	}
	if known || u.LastLoginAt == nil {
		return
	}
	what := "Your account was signed in to the console from a network and browser not seen for it before."
	if kind == rempart.SessionAPI {
		what = "An API access token was issued for your account to a network and program not seen for it before."
	}
	s.queueNotice(ctx, c, NoticeRow{UserID: u.ID, TenantID: u.TenantID, Kind: NoticeSignIn, What: what, IP: c.IP, Agent: family})
}

// ForgetSignInNetworks forgets the networks and browsers of people who
// have not signed in from them for networkMemory, whether they sign in
// again or not; the hourly purge job calls it, with or without a relay.
func (s *Service) ForgetSignInNetworks(ctx context.Context) (int, error) {
	return s.store.ForgetSignIns(ctx, s.clock.Now().Add(-networkMemory))
}

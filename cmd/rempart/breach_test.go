package main

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/client"
)

// TestPasswordBreachCheck: with password-breach-check, a person cannot
// choose a password the range API reports as breached, only the first five
// hex digits of its SHA-1 reach that API, and while it cannot answer no new
// password is accepted (IAM-3, fail closed).
func TestPasswordBreachCheck(t *testing.T) {
	const breached, fresh = "Quartz-fjord-v1xen-walk", "Basalt-heron-9quill-drift"
	sum := sha1.Sum([]byte(breached))
	full := strings.ToUpper(hex.EncodeToString(sum[:]))
	var mu sync.Mutex
	var asked []string
	down := false
	hibp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		asked = append(asked, r.URL.Path)
		if down {
			http.Error(w, "maintenance", http.StatusServiceUnavailable)
			return
		}
		// The breached password's suffix among padding (count 0).
		fmt.Fprintf(w, "0018A45C4D1DEF81644B54AB7F969B88D65:0\r\n%s:42\r\n", full[5:])
	}))
	defer hibp.Close()

	ctx := context.Background()
	m, _ := startMain(t, t.TempDir(), "--backup-schedule", "off", "--restore-test-schedule", "off", "--password-breach-check", hibp.URL)
	base := "https://" + m.Server.Addr("https")
	b, err := client.New(base, client.WithHTTPClient(insecureClient(nil))).Bootstrap(ctx, m.Bootstrap)
	if err != nil {
		t.Fatal(err)
	}
	admin := client.New(base, client.WithHTTPClient(insecureClient(nil)), client.WithAPIKey(b.Key.Secret))
	ten, err := admin.CreateTenant(ctx, rempart.TenantCreate{Name: "Acme"})
	if err != nil {
		t.Fatal(err)
	}
	anon := client.New(base, client.WithHTTPClient(insecureClient(nil)))
	invite := func(email string) string {
		t.Helper()
		inv, err := admin.Invite(ctx, ten.ID, rempart.InvitationCreate{Email: email, Role: rempart.RoleReader})
		if err != nil {
			t.Fatal(err)
		}
		return inv.Token
	}

	tok := invite("ann@acme.example")
	_, err = anon.AcceptInvitation(ctx, rempart.InvitationAccept{Token: tok, Name: "Ann", Password: breached})
	if rempart.ErrorCode(err) != rempart.EINVALID || !strings.Contains(rempart.ErrorMessage(err)+fmt.Sprint(err), "breach") {
		t.Fatalf("a breached password: got %v, want it refused as breached", err)
	}
	if _, err := anon.AcceptInvitation(ctx, rempart.InvitationAccept{Token: tok, Name: "Ann", Password: fresh}); err != nil {
		t.Fatalf("a password in no breach: %v", err)
	}
	mu.Lock()
	for _, p := range asked {
		if p != "/range/"+full[:5] && p != "/range/"+hexPrefix(fresh) {
			t.Errorf("the range API was asked %q: only five hex digits may leave", p)
		}
	}
	if len(asked) != 2 {
		t.Errorf("the range API was asked %d times, want 2", len(asked))
	}
	down = true
	mu.Unlock()

	tok = invite("ben@acme.example")
	if _, err := anon.AcceptInvitation(ctx, rempart.InvitationAccept{Token: tok, Name: "Ben", Password: fresh}); rempart.ErrorCode(err) != rempart.EUNAVAILABLE {
		t.Fatalf("while the range API is down: got %v, want unavailable (fail closed)", err)
	}
}

func hexPrefix(pw string) string {
	sum := sha1.Sum([]byte(pw))
	return strings.ToUpper(hex.EncodeToString(sum[:]))[:5]
}

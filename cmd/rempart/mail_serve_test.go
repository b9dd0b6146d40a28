package main

import (
	"context"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/internal/smtptest"
	"github.com/rempart/rempart/jobs"
)

// The server configured with a relay (a real Postfix, over verified
// STARTTLS) mails an invitation's link and does not return the token to
// the inviter; the mailed link is accepted once (IAM-1). Its sender mails
// the account notices queued in the outbox.
func TestServeMailsInvitations(t *testing.T) {
	mta := smtptest.Start(t, smtptest.Options{})
	m, _ := startMain(t, filepath.Join(t.TempDir(), "data"), "--smtp-host", mta.Host, "--smtp-port", strconv.Itoa(mta.Port),
		"--smtp-ca-file", mta.CAFile, "--mail-from", "rempart <noreply@rempart.test>", "--public-url", "https://rempart.example.com",
		"--notice-contact", "security@rempart.test")
	url := "https://" + m.Server.Addr("https")
	var b rempart.Bootstrapped
	newAPI(t, url, m.Bootstrap).must(201, "POST", "/api/v1/bootstrap", "", &b)
	admin := newAPI(t, url, b.Key.Secret)
	var created map[string]any
	admin.must(201, "POST", "/api/v1/staff/invitations", `{"email":"grace@example.test","role":"auditor"}`, &created)
	if created["mailed"] != true || created["token"] != nil {
		t.Fatalf("invitation answer %v: want mailed and no token", created)
	}
	msg := mta.Wait(t, 1)[0]
	_, params, _ := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	p, err := multipart.NewReader(msg.Body, params["boundary"]).NextPart()
	if err != nil {
		t.Fatal(err)
	}
	text, _ := io.ReadAll(p)
	link := regexp.MustCompile(`https://rempart\.example\.com/join#(ri_\S+)`).FindStringSubmatch(string(text))
	if link == nil {
		t.Fatalf("no link in:\n%s", text)
	}
	public := newAPI(t, url, "")
	body := fmt.Sprintf(`{"token":%q,"name":"Grace","password":"Compiler-n0tes-1952"}`, link[1])
	public.must(201, "POST", "/api/v1/invitations/accept", body, nil)
	if st, _ := public.do("POST", "/api/v1/invitations/accept", strings.Replace(body, "Grace", "Mallory", 1), nil); st != 401 {
		t.Fatalf("second use of the link: %d, want 401", st)
	}

	// An account notice goes through the outbox: the change answers at
	// once, and the server's sender mails the notice (ASVS 2.2.3).
	public.must(204, "POST", "/api/v1/password", `{"email":"grace@example.test","current":"Compiler-n0tes-1952","new":"Harbour-l1ghts-over-bay"}`, nil)
	var notice string
	for _, m := range mta.Wait(t, 2) {
		if m.Header.Get("Subject") == "A change to how you sign in to rempart" {
			b, _ := io.ReadAll(m.Body)
			notice = string(b)
		}
	}
	if !strings.Contains(notice, "Your password was changed") || !strings.Contains(notice, "security@rempart.test") || strings.Contains(notice, "Harbour-l1ghts-over-bay") {
		t.Fatalf("password change notice:\n%s", notice)
	}
	// The daily password expiry job is registered and runs (nobody's
	// password expires within 14 days: it queues nothing).
	j, _, err := m.Jobs.Enqueue(context.Background(), system, jobPasswordExpiry, "", struct{}{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(30 * time.Second); j.Status != jobs.Done; time.Sleep(50 * time.Millisecond) {
		if j, err = m.DB.Job(context.Background(), j.ID); err != nil || j.Status == jobs.Failed || time.Now().After(deadline) {
			t.Fatalf("password expiry job: %+v, %v", j, err)
		}
	}
}

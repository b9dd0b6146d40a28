package main

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/client"
	"github.com/rempart/rempart/internal/softhsm"
	"github.com/rempart/rempart/keys/hsm"
)

// waitJob polls a job until it ends.
func waitJob(t *testing.T, a *api, j rempart.Job) rempart.Job {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var got rempart.Job
		a.must(200, "GET", "/api/v1/jobs/"+j.ID, "", &got)
		if got.Status == "done" || got.Status == "failed" {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %s (%s) still %s after 30 s", j.ID, j.Kind, got.Status)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestKeyRotationsOverTheAPI rotates the root key and then a tenant's keys
// through the API of a running server, follows both jobs, and reads every
// record back; the old root key file is destroyed and the inventory says so
// (ENC-3).
func TestKeyRotationsOverTheAPI(t *testing.T) {
	dir := t.TempDir()
	m, _ := startMain(t, dir, "--backup-schedule", "off", "--restore-test-schedule", "off")
	url := "https://" + m.Server.Addr("https")
	var b rempart.Bootstrapped
	newAPI(t, url, m.Bootstrap).must(201, "POST", "/api/v1/bootstrap", "", &b)
	admin := newAPI(t, url, b.Key.Secret)
	var ten rempart.Tenant
	admin.must(201, "POST", "/api/v1/tenants", `{"name":"Acme"}`, &ten)
	sa := adminAccount(t, m, admin, ten.ID)
	var k rempart.APIKeyCreated
	admin.must(201, "POST", "/api/v1/tenants/"+ten.ID+"/service-accounts/"+sa.ID+"/keys", `{}`, &k)
	tenantAdmin := newAPI(t, url, k.Secret)
	records := "/api/v1/tenants/" + ten.ID + "/collections/calls/records"
	want := map[string]string{}
	for i := range 30 {
		var r rempart.Record
		body := fmt.Sprintf(`{"i":%d}`, i)
		tenantAdmin.must(201, "POST", records, body, &r)
		want[r.ID] = body
	}
	// An attachment, re-sealed by the tenant's rotation below.
	attBody := strings.Repeat("RIFF audio ", 30000)
	var rec0 string
	for id := range want {
		rec0 = id
		break
	}
	c := client.New(url, client.WithHTTPClient(tenantAdmin.hc), client.WithAPIKey(k.Secret))
	att, err := c.UploadAttachment(context.Background(), ten.ID, "calls", rec0, strings.NewReader(attBody), client.UploadOptions{Filename: "call.wav", ContentType: "audio/wav"})
	if err != nil {
		t.Fatal(err)
	}
	var before rempart.KeyInventory
	admin.must(200, "GET", "/api/v1/keys", "", &before)

	var j rempart.Job
	admin.must(202, "POST", "/api/v1/keys/root/rotate", "", &j)
	if got := waitJob(t, admin, j); got.Status != "done" {
		t.Fatalf("root rotation job: %+v", got)
	}
	var after rempart.KeyInventory
	admin.must(200, "GET", "/api/v1/keys", "", &after)
	if after.ActiveRoot == before.ActiveRoot || len(after.RootVersions) != 1 || !after.RootVersions[0].Active {
		t.Fatalf("inventory after root rotation: got %+v (before %s)", after, before.ActiveRoot)
	}
	if _, err := os.Stat(filepath.Join(dir, "root.key")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("first root key file after rotation: %v, want destroyed", err)
	}
	// Every deployment secret was re-wrapped: each still opens, under the
	// new root alone, to what the server runs with (ENC-3).
	for _, sec := range deploymentSecrets {
		got, err := m.Deployment.secret(context.Background(), sec.Name, sec.Label, "x", func() (string, error) {
			return "", fmt.Errorf("%s was made anew after the rotation", sec.Name)
		})
		if err != nil {
			t.Fatalf("deployment secret %s after the root rotation: %v", sec.Name, err)
		}
		if sec.Name == "secrets_key" && got != hex.EncodeToString(m.Deployment.SecretsKey) {
			t.Fatalf("secrets_key after the rotation differs from the one in use")
		}
	}

	tenantAdmin.must(202, "POST", "/api/v1/tenants/"+ten.ID+"/keys/rotate", "", &j)
	if got := waitJob(t, admin, j); got.Status != "done" {
		t.Fatalf("tenant rotation job: %+v", got)
	}
	var tk rempart.TenantKeys
	tenantAdmin.must(200, "GET", "/api/v1/tenants/"+ten.ID+"/keys", "", &tk)
	if len(tk.DataKeys) != 1 || !tk.DataKeys[0].Active || tk.DataKeys[0].Records != 30 || tk.DataKeys[0].Attachments != 1 {
		t.Fatalf("tenant keys after rotation: got %+v", tk)
	}
	d, err := c.DownloadAttachment(context.Background(), ten.ID, "calls", rec0, att.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(d.Body)
	d.Body.Close()
	if err != nil || string(got) != attBody || d.Filename != "call.wav" {
		t.Fatalf("attachment after rotation: %d bytes, %q, %v", len(got), d.Filename, err)
	}
	// The old object is gone: one object for the one attachment.
	var objs []string
	for info, err := range m.Deployment.Attachments.List(context.Background(), "attachments/"+ten.ID+"/") {
		if err != nil {
			t.Fatal(err)
		}
		objs = append(objs, info.Key)
	}
	if len(objs) != 1 {
		t.Fatalf("objects after re-sealing: got %v, want one", objs)
	}
	for id, body := range want {
		var r rempart.Record
		tenantAdmin.must(200, "GET", records+"/"+id, "", &r)
		if string(r.Data) != body {
			t.Fatalf("record %s: got %s, want %s", id, r.Data, body)
		}
	}
}

// TestCustomerKeyOverTheAPI: a tenant's administrator brings the tenant's own
// key (an HSM key object), the tenant's data reads as before, the tenant
// destroys its key, and within the cache time its reads answer 503 saying
// why, while another tenant goes on (GOV-5).
func TestCustomerKeyOverTheAPI(t *testing.T) {
	ctx := context.Background()
	tok := softhsm.New(t)
	uri := tok.URIWith("acme-cmk", "pin-source=file:"+tok.PINFile)
	tenantToken, err := hsm.Open(uri)
	if err != nil {
		t.Fatal(err)
	}
	defer tenantToken.Close()
	cmk, err := tenantToken.Create(ctx)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	m, _ := startMain(t, dir, "--backup-schedule", "off", "--restore-test-schedule", "off",
		"--customer-key-sources", "pkcs11", "--customer-key-pkcs11-modules", tok.Module, "--customer-key-cache", "1s")
	url := "https://" + m.Server.Addr("https")
	var b rempart.Bootstrapped
	newAPI(t, url, m.Bootstrap).must(201, "POST", "/api/v1/bootstrap", "", &b)
	admin := newAPI(t, url, b.Key.Secret)
	tenantAdmin := func(name string) (*api, string) {
		var ten rempart.Tenant
		admin.must(201, "POST", "/api/v1/tenants", `{"name":"`+name+`"}`, &ten)
		sa := adminAccount(t, m, admin, ten.ID)
		var k rempart.APIKeyCreated
		admin.must(201, "POST", "/api/v1/tenants/"+ten.ID+"/service-accounts/"+sa.ID+"/keys", `{}`, &k)
		return newAPI(t, url, k.Secret), ten.ID
	}
	acme, acmeID := tenantAdmin("Acme")
	globex, globexID := tenantAdmin("Globex")
	var ra, rg rempart.Record
	acme.must(201, "POST", "/api/v1/tenants/"+acmeID+"/collections/calls/records", `{"a":1}`, &ra)
	globex.must(201, "POST", "/api/v1/tenants/"+globexID+"/collections/calls/records", `{"g":1}`, &rg)

	// A PIN in the URI is refused, and nothing changes.
	if st, _ := acme.do("PUT", "/api/v1/tenants/"+acmeID+"/keys/customer", `{"uri":"`+tok.URIWith("acme-cmk", "pin-value="+tok.PIN)+`"}`, nil); st != 400 {
		t.Fatalf("a PIN in the URI: got %d, want 400", st)
	}
	var tk rempart.TenantKeys
	acme.must(200, "PUT", "/api/v1/tenants/"+acmeID+"/keys/customer", `{"uri":"`+uri+`"}`, &tk)
	if len(tk.KEKs) != 1 || tk.KEKs[0].Wrapper != "cmk:"+cmk.KeyID() {
		t.Fatalf("keys after bringing the tenant's key: %+v", tk)
	}
	acme.must(200, "GET", "/api/v1/tenants/"+acmeID+"/collections/calls/records/"+ra.ID, "", nil)

	if err := tenantToken.Destroy(ctx, cmk.KeyID()); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1100 * time.Millisecond) // the cache time
	status, _ := acme.do("GET", "/api/v1/tenants/"+acmeID+"/collections/calls/records/"+ra.ID, "", nil)
	if status != 503 {
		t.Fatalf("read after the tenant destroyed its key: got %d, want 503", status)
	}
	globex.must(200, "GET", "/api/v1/tenants/"+globexID+"/collections/calls/records/"+rg.ID, "", nil)
}

// adminAccount makes a tenant's admin service account the one way there
// is (IAM-10): created as a writer over the API, then a role change the
// admin requests there and a second person approves.
func adminAccount(t *testing.T, m *Main, admin *api, tenant string) rempart.ServiceAccount {
	t.Helper()
	var sa rempart.ServiceAccount
	admin.must(400, "POST", "/api/v1/tenants/"+tenant+"/service-accounts", `{"name":"ops","role":"admin"}`, nil)
	admin.must(201, "POST", "/api/v1/tenants/"+tenant+"/service-accounts", `{"name":"ops","role":"writer"}`, &sa)
	var rc rempart.RoleChange
	admin.must(201, "POST", "/api/v1/tenants/"+tenant+"/role-changes", `{"principal_id":"`+sa.ID+`","role":"admin","reason":"runs the key rotations"}`, &rc)
	second := rempart.Caller{Principal: rempart.Principal{ID: "sa_second", Role: rempart.RoleSystemAdmin}}
	if _, err := m.Reviews.ApproveRoleChange(context.Background(), second, tenant, rc.ID, rempart.RoleChangeDecision{}); err != nil {
		t.Fatal(err)
	}
	return sa
}

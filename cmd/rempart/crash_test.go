package main

import (
	"bytes"
	"fmt"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/audit"
)

// setup bootstraps a fresh server and returns an admin API, a tenant and a
// writer key of it.
func setup(t *testing.T, p *proc) (admin *api, tenant string, writer *api) {
	t.Helper()
	var b rempart.Bootstrapped
	boot := newAPI(t, p.url, p.bootstrap)
	boot.must(201, "POST", "/api/v1/bootstrap", "", &b)
	admin = newAPI(t, p.url, b.Key.Secret)
	var ten rempart.Tenant
	admin.must(201, "POST", "/api/v1/tenants", `{"name":"Crash Test Co"}`, &ten)
	var sa rempart.ServiceAccount
	admin.must(201, "POST", "/api/v1/tenants/"+ten.ID+"/service-accounts", `{"name":"loader","role":"writer"}`, &sa)
	var k rempart.APIKeyCreated
	admin.must(201, "POST", "/api/v1/tenants/"+ten.ID+"/service-accounts/"+sa.ID+"/keys", `{}`, &k)
	return admin, ten.ID, newAPI(t, p.url, k.Secret)
}

// TestSIGKILLLosesNoAcknowledgedWrite kills the server in the middle of a write
// load, restarts it, and checks that every acknowledged write is there and
// that the audit log still verifies (BCK-3, AUD-1, AUD-2).
func TestSIGKILLLosesNoAcknowledgedWrite(t *testing.T) {
	dir := t.TempDir()
	p := startServer(t, dir)
	admin, tenant, writer := setup(t, p)
	records := "/api/v1/tenants/" + tenant + "/collections/calls/records"

	var mu sync.Mutex
	acked := map[string]string{} // record ID → its payload
	var attempts atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				attempts.Add(1)
				payload := fmt.Sprintf(`{"worker":%d,"seq":%d}`, w, i)
				var rec rempart.Record
				if status, err := writer.do("POST", records, payload, &rec); err == nil && status == 201 {
					mu.Lock()
					acked[rec.ID] = payload
					mu.Unlock()
				}
			}
		}(w)
	}
	time.Sleep(1500 * time.Millisecond)
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	p.cmd.Wait()
	close(stop)
	wg.Wait()
	if len(acked) < 50 {
		t.Fatalf("only %d writes acknowledged before the kill (of %d attempts): the load did not run", len(acked), attempts.Load())
	}
	t.Logf("%d writes acknowledged of %d attempted before SIGKILL", len(acked), attempts.Load())

	p2 := startServer(t, dir)
	writer.url, admin.url = p2.url, p2.url
	for id, payload := range acked {
		var rec rempart.Record
		writer.must(200, "GET", records+"/"+id, "", &rec)
		if string(rec.Data) != payload {
			t.Fatalf("record %s: got %s, want %s", id, rec.Data, payload)
		}
	}
	var n int
	for cursor := ""; ; {
		// A fresh value each page: decoding into the previous page would keep
		// its next_cursor when the last page has none.
		var creates rempart.AuditList
		admin.must(200, "GET", "/api/v1/audit/entries?limit=1000&action=record.create&cursor="+cursor, "", &creates)
		for _, e := range creates.Entries {
			if e.Outcome == rempart.OutcomeSuccess {
				n++
			}
		}
		if cursor = creates.NextCursor; cursor == "" {
			break
		}
	}
	if n < len(acked) {
		t.Fatalf("audit has %d successful record.create entries, fewer than the %d acknowledged writes", n, len(acked))
	}
	var cp rempart.Checkpoint
	admin.must(200, "GET", "/api/v1/audit/checkpoint", "", &cp)
	var export bytes.Buffer
	admin.must(200, "GET", "/api/v1/audit/export", "", &export)
	rep, err := audit.Verify(&export, cp.VerifierKey, nil)
	if err != nil || !rep.OK {
		t.Fatalf("audit verify after crash: %+v, %v", rep, err)
	}
}

package httpapi_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/audit"
	"github.com/rempart/rempart/httpapi"
	"github.com/rempart/rempart/keys"
)

// attStack is a stack with a tenant, a writer's key and a record.
type attStack struct {
	*stack
	tenant, rec, key string
}

func newAttStack(t *testing.T) *attStack {
	s := newStack(t)
	admin, _ := s.admin()
	a := &attStack{stack: s, tenant: s.tenant(admin, "Acme")}
	_, _, a.key = s.account(admin, a.tenant, "w", rempart.RoleWriter, 0)
	writer, err := s.identity.Authenticate(context.Background(), rempart.Caller{}, a.key)
	if err != nil {
		t.Fatal(err)
	}
	rec, _, err := s.vault.CreateRecord(context.Background(), writer, a.tenant, "calls", []byte(`{}`), "")
	if err != nil {
		t.Fatal(err)
	}
	a.rec = rec.ID
	return a
}

func (a *attStack) url(suffix string) string {
	return a.srv.URL + "/api/v1/tenants/" + a.tenant + "/collections/calls/records/" + a.rec + "/attachments" + suffix
}

// do sends a request with the writer's key and returns the answer with its
// body read.
func (a *attStack) do(req *http.Request) (*http.Response, []byte) {
	a.t.Helper()
	req.Header.Set("Authorization", "Bearer "+a.key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		a.t.Fatalf("%s %s: read body: %v", req.Method, req.URL.Path, err)
	}
	return resp, b
}

func (a *attStack) upload(name, ctype string, body []byte, header map[string]string) (*http.Response, []byte) {
	a.t.Helper()
	req, _ := http.NewRequest("POST", a.url("?filename="+url.QueryEscape(name)), bytes.NewReader(body))
	req.Header.Set("Content-Type", ctype)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	return a.do(req)
}

func (a *attStack) mustUpload(body []byte) rempart.Attachment {
	a.t.Helper()
	resp, b := a.upload("f.bin", "application/octet-stream", body, nil)
	var att rempart.Attachment
	if resp.StatusCode != 201 || json.Unmarshal(b, &att) != nil {
		a.t.Fatalf("upload: got %d %s", resp.StatusCode, b)
	}
	return att
}

func (a *attStack) get(id string, header map[string]string) (*http.Response, []byte) {
	a.t.Helper()
	req, _ := http.NewRequest("GET", a.url("/"+id), nil)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	return a.do(req)
}

// objects lists the stored objects of the tenant.
func (a *attStack) objectKeys() []string {
	a.t.Helper()
	var out []string
	for info, err := range a.objects.List(context.Background(), "attachments/"+a.tenant+"/") {
		if err != nil {
			a.t.Fatal(err)
		}
		out = append(out, info.Key)
	}
	return out
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.NewChaCha8([32]byte{byte(n)}).Read(b)
	return b
}

func digestHeader(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha-256=:" + base64.StdEncoding.EncodeToString(sum[:]) + ":"
}

func problemCode(t *testing.T, resp *http.Response, body []byte) string {
	t.Helper()
	var p httpapi.Problem
	if resp.Header.Get("Content-Type") != "application/problem+json" || json.Unmarshal(body, &p) != nil || p.Status != resp.StatusCode {
		t.Fatalf("status %d: not a problem document: %s %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	return p.Code
}

// TestAttachmentHTTPRoundTrip uploads a file over HTTP and downloads it with
// the headers a browser or a client needs.
func TestAttachmentHTTPRoundTrip(t *testing.T) {
	a := newAttStack(t)
	data := randomBytes(2<<20 + 3) // more than the body limit of other routes
	name := `appel "urgent" – 1.wav`
	resp, b := a.upload(name, "audio/wav", data, map[string]string{"Content-Digest": digestHeader(data)})
	var att rempart.Attachment
	if resp.StatusCode != 201 || json.Unmarshal(b, &att) != nil {
		t.Fatalf("upload: got %d %s", resp.StatusCode, b)
	}
	sum := sha256.Sum256(data)
	if att.SHA256 != hex.EncodeToString(sum[:]) || att.Size != int64(len(data)) || att.Filename != name || att.ContentType != "audio/wav" {
		t.Fatalf("upload answer: got %+v", att)
	}
	if loc := resp.Header.Get("Location"); loc != strings.TrimPrefix(a.url("/"+att.ID), a.srv.URL) || resp.Header.Get("ETag") != `"`+att.SHA256+`"` {
		t.Fatalf("upload headers: Location %q ETag %q", loc, resp.Header.Get("ETag"))
	}
	resp, b = a.get(att.ID, nil)
	if resp.StatusCode != 200 || !bytes.Equal(b, data) {
		t.Fatalf("download: got %d, %d bytes (equal %v)", resp.StatusCode, len(b), bytes.Equal(b, data))
	}
	_, params, err := mime.ParseMediaType(resp.Header.Get("Content-Disposition"))
	for h, want := range map[string]string{
		"Content-Type":           "audio/wav",
		"Content-Length":         strconv.Itoa(len(data)),
		"ETag":                   `"` + att.SHA256 + `"`,
		"Accept-Ranges":          "bytes",
		"Repr-Digest":            digestHeader(data),
		"X-Content-Type-Options": "nosniff",
	} {
		if got := resp.Header.Get(h); got != want {
			t.Errorf("download header %s: got %q, want %q", h, got, want)
		}
	}
	if err != nil || params["filename"] != name || !strings.HasPrefix(resp.Header.Get("Content-Disposition"), "attachment;") {
		t.Errorf("Content-Disposition: got %q (%v), want an attachment named %q", resp.Header.Get("Content-Disposition"), err, name)
	}
	req, _ := http.NewRequest("GET", a.url(""), nil)
	resp, b = a.do(req)
	var list rempart.AttachmentList
	if resp.StatusCode != 200 || json.Unmarshal(b, &list) != nil || len(list.Attachments) != 1 || list.Attachments[0] != att {
		t.Fatalf("list: got %d %s", resp.StatusCode, b)
	}
	// The other routes keep their own body limit.
	big := `{"a":"` + strings.Repeat("x", 2<<20) + `"}`
	req, _ = http.NewRequest("POST", a.srv.URL+"/api/v1/tenants/"+a.tenant+"/collections/calls/records", strings.NewReader(big))
	req.Header.Set("Content-Type", "application/json")
	if resp, b := a.do(req); resp.StatusCode != 413 || problemCode(t, resp, b) != rempart.ETOOLARGE {
		t.Fatalf("2 MiB record: got %d, want 413", resp.StatusCode)
	}
}

// TestAttachmentHTTPRanges checks every range form against the plaintext,
// and the answers to ranges that cannot be served.
func TestAttachmentHTTPRanges(t *testing.T) {
	a := newAttStack(t)
	const size = 3*keys.StreamSegmentSize + 500
	data := randomBytes(size)
	att := a.mustUpload(data)
	tag := `"` + att.SHA256 + `"`
	for _, tc := range []struct {
		header       map[string]string
		status       int
		contentRange string
		from, to     int // the body is data[from:to]
		code         string
	}{
		{map[string]string{"Range": "bytes=0-0"}, 206, fmt.Sprintf("bytes 0-0/%d", size), 0, 1, ""},
		{map[string]string{"Range": "bytes=65530-65545"}, 206, fmt.Sprintf("bytes 65530-65545/%d", size), 65530, 65546, ""},
		{map[string]string{"Range": "bytes=100000-"}, 206, fmt.Sprintf("bytes 100000-%d/%d", size-1, size), 100000, size, ""},
		{map[string]string{"Range": "bytes=-500"}, 206, fmt.Sprintf("bytes %d-%d/%d", size-500, size-1, size), size - 500, size, ""},
		{map[string]string{"Range": "bytes=10-99999999999999999999999"}, 206, fmt.Sprintf("bytes 10-%d/%d", size-1, size), 10, size, ""},
		{map[string]string{"Range": " Bytes = 5 - 9 "}, 206, fmt.Sprintf("bytes 5-9/%d", size), 5, 10, ""},
		{map[string]string{"Range": "bytes=0-9", "If-Range": tag}, 206, fmt.Sprintf("bytes 0-9/%d", size), 0, 10, ""},
		{map[string]string{"Range": "bytes=0-9", "If-Range": `"00"`}, 200, "", 0, size, ""},
		{map[string]string{"Range": "bytes=0-9", "If-Range": "Wed, 21 Oct 2015 07:28:00 GMT"}, 200, "", 0, size, ""},
		{map[string]string{"Range": "items=0-9"}, 200, "", 0, size, ""},
		{map[string]string{"Range": fmt.Sprintf("bytes=%d-", size)}, 416, fmt.Sprintf("bytes */%d", size), 0, 0, rempart.ERANGE},
		{map[string]string{"Range": "bytes=-0"}, 416, fmt.Sprintf("bytes */%d", size), 0, 0, rempart.ERANGE},
		{map[string]string{"Range": "bytes=0-1,5-9"}, 416, fmt.Sprintf("bytes */%d", size), 0, 0, rempart.ERANGE},
		{map[string]string{"Range": "bytes=9-5"}, 400, "", 0, 0, rempart.EINVALID},
		{map[string]string{"Range": "bytes=abc"}, 400, "", 0, 0, rempart.EINVALID},
		{map[string]string{"Range": "bytes="}, 400, "", 0, 0, rempart.EINVALID},
		{map[string]string{"Range": "bytes=1-2-3"}, 400, "", 0, 0, rempart.EINVALID},
		{map[string]string{"Range": "bytes=+1-2"}, 400, "", 0, 0, rempart.EINVALID},
		{map[string]string{"Range": "0-10"}, 400, "", 0, 0, rempart.EINVALID},
	} {
		resp, b := a.get(att.ID, tc.header)
		if resp.StatusCode != tc.status || resp.Header.Get("Content-Range") != tc.contentRange {
			t.Errorf("%v: got %d Content-Range %q, want %d %q: %s", tc.header, resp.StatusCode, resp.Header.Get("Content-Range"), tc.status, tc.contentRange, b)
			continue
		}
		if tc.status >= 400 {
			if code := problemCode(t, resp, b); code != tc.code {
				t.Errorf("%v: got code %s, want %s", tc.header, code, tc.code)
			}
			continue
		}
		if !bytes.Equal(b, data[tc.from:tc.to]) || resp.Header.Get("Content-Length") != strconv.Itoa(tc.to-tc.from) {
			t.Errorf("%v: got %d bytes (Content-Length %s), want data[%d:%d]", tc.header, len(b), resp.Header.Get("Content-Length"), tc.from, tc.to)
		}
	}
	// HEAD answers the headers only.
	req, _ := http.NewRequest("HEAD", a.url("/"+att.ID), nil)
	if resp, b := a.do(req); resp.StatusCode != 200 || len(b) != 0 || resp.Header.Get("Content-Length") != strconv.Itoa(size) {
		t.Fatalf("HEAD: got %d, %d bytes, Content-Length %s", resp.StatusCode, len(b), resp.Header.Get("Content-Length"))
	}
}

// TestAttachmentHTTPRefusals: every refused upload is a problem document and
// leaves nothing stored; a digest may also come as a trailer.
func TestAttachmentHTTPRefusals(t *testing.T) {
	a := newAttStack(t)
	data := randomBytes(100 << 10)
	wrongDigest := digestHeader([]byte("something else"))
	for _, tc := range []struct {
		name, filename, ctype string
		body                  io.Reader
		header                map[string]string
		status                int
		code                  string
	}{
		{"digest mismatch", "a.bin", "application/octet-stream", bytes.NewReader(data), map[string]string{"Content-Digest": wrongDigest}, 400, rempart.EINVALID},
		{"malformed digest", "a.bin", "application/octet-stream", bytes.NewReader(data), map[string]string{"Content-Digest": "sha-256=abc"}, 400, rempart.EINVALID},
		{"digest of another algorithm only", "a.bin", "application/octet-stream", bytes.NewReader(data), map[string]string{"Content-Digest": "sha-512=:AAAA:"}, 400, rempart.EINVALID},
		{"forbidden type", "a.html", "text/html", bytes.NewReader(data), nil, 415, rempart.EUNSUPPORTED},
		{"no type", "a.bin", "", bytes.NewReader(data), nil, 415, rempart.EUNSUPPORTED},
		{"no filename", "", "application/pdf", bytes.NewReader(data), nil, 400, rempart.EINVALID},
		{"declared too large", "a.bin", "application/octet-stream", bytes.NewReader(make([]byte, stackMaxAttachment+1)), nil, 413, rempart.ETOOLARGE},
		{"too large, length unknown", "a.bin", "application/octet-stream", io.MultiReader(bytes.NewReader(make([]byte, stackMaxAttachment)), strings.NewReader("x")), nil, 413, rempart.ETOOLARGE},
	} {
		req, _ := http.NewRequest("POST", a.url("?filename="+url.QueryEscape(tc.filename)), tc.body)
		if tc.ctype != "" {
			req.Header.Set("Content-Type", tc.ctype)
		}
		for k, v := range tc.header {
			req.Header.Set(k, v)
		}
		resp, b := a.do(req)
		if resp.StatusCode != tc.status || problemCode(t, resp, b) != tc.code {
			t.Errorf("%s: got %d %s, want %d %s", tc.name, resp.StatusCode, b, tc.status, tc.code)
		}
	}
	if ks := a.objectKeys(); len(ks) != 0 {
		t.Fatalf("objects left by refused uploads: %v", ks)
	}
	// A digest sent as a trailer, after a body of unknown length.
	for _, tc := range []struct {
		digest string
		status int
	}{{digestHeader(data), 201}, {wrongDigest, 400}} {
		req, _ := http.NewRequest("POST", a.url("?filename=t.bin"), io.MultiReader(bytes.NewReader(data)))
		req.Header.Set("Content-Type", "application/octet-stream")
		req.ContentLength = -1
		req.Trailer = http.Header{"Content-Digest": {tc.digest}}
		if resp, b := a.do(req); resp.StatusCode != tc.status {
			t.Fatalf("trailer digest %s: got %d %s, want %d", tc.digest, resp.StatusCode, b, tc.status)
		}
	}
	if ks := a.objectKeys(); len(ks) != 1 {
		t.Fatalf("objects after the trailer uploads: got %v, want the good one", ks)
	}
}

// TestAttachmentHTTPClientDisconnect cuts the connection halfway through an
// upload: nothing is stored, and the failure is audited.
func TestAttachmentHTTPClientDisconnect(t *testing.T) {
	a := newAttStack(t)
	conn, err := net.Dial("tcp", strings.TrimPrefix(a.srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(a.url("?filename=cut.bin"))
	const declared = 2 << 20
	fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nContent-Type: application/octet-stream\r\nContent-Length: %d\r\n\r\n",
		u.RequestURI(), u.Host, a.key, declared)
	conn.Write(randomBytes(declared / 2))
	time.Sleep(100 * time.Millisecond)
	conn.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		es, err := a.db.AuditLog(context.Background(), audit.Query{Limit: 100, Action: "attachment.create"})
		if err != nil {
			t.Fatal(err)
		}
		if len(es) > 0 {
			if len(es) != 1 || es[0].Outcome != rempart.OutcomeFailure || es[0].Reason != rempart.EINVALID {
				t.Fatalf("audit of the cut upload: got %+v", es)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the cut upload was not audited")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if ks := a.objectKeys(); len(ks) != 0 {
		t.Fatalf("objects left by the cut upload: %v", ks)
	}
	req, _ := http.NewRequest("GET", a.url(""), nil)
	if resp, b := a.do(req); resp.StatusCode != 200 || !strings.Contains(string(b), `"attachments":[]`) {
		t.Fatalf("list after the cut upload: got %d %s", resp.StatusCode, b)
	}
}

// TestAttachmentHTTPTampered damages stored objects: damage at the start is a
// 500 problem; damage further on aborts the transfer after authentic bytes
// only, so the client never takes a short file for a whole one.
func TestAttachmentHTTPTampered(t *testing.T) {
	a := newAttStack(t)
	data := randomBytes(3*keys.StreamSegmentSize + 10)
	tamper := func(id string, at int) {
		k := "attachments/" + a.tenant + "/" + id
		rc, err := a.objects.Get(context.Background(), k)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		b[at] ^= 1
		if _, err := a.objects.Put(context.Background(), k, bytes.NewReader(b)); err != nil {
			t.Fatal(err)
		}
	}
	first := a.mustUpload(data)
	tamper(first.ID, keys.StreamHeaderSize+3)
	if resp, b := a.get(first.ID, nil); resp.StatusCode != 500 || problemCode(t, resp, b) != rempart.EINTERNAL || bytes.Contains(b, data[:16]) {
		t.Fatalf("damaged first segment: got %d %s", resp.StatusCode, b)
	}
	later := a.mustUpload(data)
	tamper(later.ID, keys.StreamHeaderSize+2*(keys.StreamSegmentSize+16)+3)
	req, _ := http.NewRequest("GET", a.url("/"+later.ID), nil)
	req.Header.Set("Authorization", "Bearer "+a.key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(bufio.NewReader(resp.Body))
	resp.Body.Close()
	if resp.StatusCode != 200 || err == nil {
		t.Fatalf("damaged third segment: got %d, %d bytes, %v; want a transfer that fails", resp.StatusCode, len(got), err)
	}
	if len(got) > 2*keys.StreamSegmentSize || !bytes.Equal(got, data[:len(got)]) {
		t.Fatalf("damaged third segment: got %d bytes (authentic: %v), want only authentic ones", len(got), bytes.Equal(got, data[:min(len(got), len(data))]))
	}
}

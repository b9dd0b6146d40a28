package vault_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/keys"
	"github.com/rempart/rempart/vault"
)

const seg = keys.StreamSegmentSize

// TestAttachmentRoundTrip uploads contents of sizes around the stream's
// segment boundaries and reads each back whole, with its hash (ENC-2).
func TestAttachmentRoundTrip(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *attEnv) {
		a, ca := e.tenant("A", rempart.RoleWriter)
		rec := e.record(ca, a)
		var ids []string
		for i, n := range []int{0, 1, seg - 1, seg, seg + 1, 3*seg + 17, 1<<20 + 5} {
			data := content(n, byte(i))
			up := vault.Upload{Filename: "appel n°" + string(rune('0'+i)) + ".wav", ContentType: "Audio/WAV; Charset=X", Size: -1, SHA256: digestOf(data)}
			att, err := e.v.UploadAttachment(ctx, ca, a, "calls", rec, up, bytes.NewReader(data))
			if err != nil {
				t.Fatalf("upload %d bytes: %v", n, err)
			}
			sum := sha256.Sum256(data)
			if att.Size != int64(n) || att.SHA256 != hex.EncodeToString(sum[:]) || att.ContentType != "audio/wav; charset=x" || att.Filename != up.Filename || att.RecordID != rec {
				t.Fatalf("upload %d bytes: got %+v", n, att)
			}
			if got := int64(len(e.objectBytes(key(a, att.ID)))); got != keys.StreamCipherSize(int64(n)) {
				t.Fatalf("object of %d bytes: got %d bytes stored, want %d", n, got, keys.StreamCipherSize(int64(n)))
			}
			got, d, err := e.read(ca, a, rec, att.ID, vault.ReadOptions{})
			if err != nil || !bytes.Equal(got, data) || d.Partial || d.Length != int64(n) || d.Filename != up.Filename {
				t.Fatalf("read %d bytes: got %d bytes (equal %v), %+v, %v", n, len(got), bytes.Equal(got, data), d, err)
			}
			ids = append(ids, att.ID)
			e.clock.Advance(time.Millisecond)
		}
		list, err := e.v.ListAttachments(ctx, ca, a, "calls", rec, false)
		if err != nil || len(list.Attachments) != len(ids) {
			t.Fatalf("list: got %d, %v; want %d", len(list.Attachments), err, len(ids))
		}
		for i, att := range list.Attachments {
			if att.ID != ids[i] {
				t.Fatalf("list order: got %s at %d, want %s", att.ID, i, ids[i])
			}
		}
	})
}

// fetched is how many bytes a read of [off, off+n) of a content of size bytes
// should take from the store: the header, then the segments holding it.
func fetched(size, off, n int64) int64 {
	const segCipher = seg + 16
	first, last := off/seg, (off+n-1)/seg
	end := min(keys.StreamHeaderSize+(last+1)*segCipher, keys.StreamCipherSize(size))
	return keys.StreamHeaderSize + end - (keys.StreamHeaderSize + first*segCipher)
}

// TestAttachmentRanges reads every form of byte range against the plaintext,
// and checks that a range read fetches only the segments it needs.
func TestAttachmentRanges(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *attEnv) {
		a, cw := e.tenant("A", rempart.RoleWriter)
		ca := cw
		ca.Principal.ID, ca.Principal.Role = rempart.NewID("sa"), rempart.RoleReader
		rec := e.record(cw, a)
		const size = 5*seg + 1234
		data := content(size, 9)
		att := e.upload(cw, a, rec, data)
		r := func(first, last int64) vault.ByteRange { return vault.ByteRange{First: first, Last: last} }
		suffix := func(n int64) vault.ByteRange { return vault.ByteRange{IsSuffix: true, SuffixLength: n} }
		for _, tc := range []struct {
			name   string
			rng    vault.ByteRange
			off, n int64
		}{
			{"first byte", r(0, 0), 0, 1},
			{"inside one segment", r(100, 199), 100, 100},
			{"last byte of a segment", r(seg-1, seg-1), seg - 1, 1},
			{"across a boundary", r(seg-10, seg+9), seg - 10, 20},
			{"three segments", r(seg+5, 3*seg+5), seg + 5, 2*seg + 1},
			{"last byte", r(size-1, size-1), size - 1, 1},
			{"past the end is cut", r(size-10, size+1000), size - 10, 10},
			{"open end", r(4*seg, -1), 4 * seg, size - 4*seg},
			{"whole as a range", r(0, -1), 0, size},
			{"suffix", suffix(300), size - 300, 300},
			{"suffix longer than the content", suffix(size + 5), 0, size},
		} {
			e.objects.read.Store(0)
			got, d, err := e.read(ca, a, rec, att.ID, vault.ReadOptions{Ranges: []vault.ByteRange{tc.rng}})
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			if !d.Partial || d.Offset != tc.off || d.Length != tc.n || d.Size != size || !bytes.Equal(got, data[tc.off:tc.off+tc.n]) {
				t.Fatalf("%s: got offset %d length %d partial %v (%d bytes, equal %v), want offset %d length %d",
					tc.name, d.Offset, d.Length, d.Partial, len(got), bytes.Equal(got, data[tc.off:tc.off+tc.n]), tc.off, tc.n)
			}
			if want := fetched(size, tc.off, tc.n); e.objects.read.Load() != want {
				t.Errorf("%s: fetched %d bytes from the store, want %d", tc.name, e.objects.read.Load(), want)
			}
		}
		// A range within one segment fetches under 70 KiB of a 330 KiB object.
		e.objects.read.Store(0)
		if _, _, err := e.read(ca, a, rec, att.ID, vault.ReadOptions{Ranges: []vault.ByteRange{r(3*seg+1, 3*seg+2)}}); err != nil || e.objects.read.Load() > 70<<10 {
			t.Fatalf("small range: fetched %d bytes, %v", e.objects.read.Load(), err)
		}
		for _, tc := range []struct {
			name   string
			ranges []vault.ByteRange
		}{
			{"starts at the end", []vault.ByteRange{r(size, -1)}},
			{"starts past the end", []vault.ByteRange{r(size+10, size+20)}},
			{"empty suffix", []vault.ByteRange{suffix(0)}},
			{"two ranges", []vault.ByteRange{r(0, 1), r(5, 6)}},
		} {
			_, _, err := e.read(ca, a, rec, att.ID, vault.ReadOptions{Ranges: tc.ranges})
			var re *vault.RangeError
			if !errors.As(err, &re) || re.Size != size || rempart.ErrorCode(err) != rempart.ERANGE {
				t.Fatalf("%s: got %v, want a range error with the size", tc.name, err)
			}
		}
		// If-Range: the range holds only for this content.
		got, d, err := e.read(ca, a, rec, att.ID, vault.ReadOptions{Ranges: []vault.ByteRange{r(0, 9)}, IfRange: strings.Repeat("0", 64)})
		if err != nil || d.Partial || !bytes.Equal(got, data) {
			t.Fatalf("If-Range of another content: got partial=%v %d bytes, %v; want the whole", d.Partial, len(got), err)
		}
		if _, d, err := e.read(ca, a, rec, att.ID, vault.ReadOptions{Ranges: []vault.ByteRange{r(0, 9)}, IfRange: att.SHA256}); err != nil || !d.Partial {
			t.Fatalf("If-Range of this content: got %+v, %v; want the range", d, err)
		}
		// An empty attachment has no satisfiable range, but reads whole.
		empty := e.upload(cw, a, rec, nil)
		if _, _, err := e.read(ca, a, rec, empty.ID, vault.ReadOptions{Ranges: []vault.ByteRange{suffix(1)}}); rempart.ErrorCode(err) != rempart.ERANGE {
			t.Fatalf("range of an empty attachment: got %v, want range_not_satisfiable", err)
		}
		// The read entries say which range was read.
		ranged := 0
		for _, en := range e.audited("attachment.read") {
			if strings.HasPrefix(en.Reason, "bytes ") && en.Outcome == rempart.OutcomeSuccess {
				ranged++
			}
		}
		if ranged != 13 {
			t.Fatalf("range reads audited with their range: got %d, want 13", ranged)
		}
	})
}

// TestAttachmentMovedDoesNotDecrypt copies an object over another tenant's,
// another record's and another attachment's: none decrypts (TEN-2).
func TestAttachmentMovedDoesNotDecrypt(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *attEnv) {
		a, ca := e.tenant("A", rempart.RoleWriter)
		b, cb := e.tenant("B", rempart.RoleWriter)
		recA, recA2, recB := e.record(ca, a), e.record(ca, a), e.record(cb, b)
		secret := content(2*seg+7, 1)
		src := e.upload(ca, a, recA, secret)
		sibling := e.upload(ca, a, recA, content(len(secret), 2))
		other := e.upload(ca, a, recA2, content(len(secret), 3))
		theirs := e.upload(cb, b, recB, content(len(secret), 4))
		stolen := e.objectBytes(key(a, src.ID))
		for _, tc := range []struct {
			name                string
			c                   rempart.Caller
			tenant, rec, target string
		}{
			{"another tenant", cb, b, recB, theirs.ID},
			{"another record", ca, a, recA2, other.ID},
			{"another attachment", ca, a, recA, sibling.ID},
		} {
			e.putObject(key(tc.tenant, tc.target), stolen)
			for _, o := range []vault.ReadOptions{{}, {Ranges: []vault.ByteRange{{First: 0, Last: 9}}}} {
				got, _, err := e.read(tc.c, tc.tenant, tc.rec, tc.target, o)
				if err != vault.ErrAttachmentUndecryptable || len(got) != 0 {
					t.Fatalf("%s (ranges %v): got %d bytes, %v; want ErrAttachmentUndecryptable", tc.name, o.Ranges, len(got), err)
				}
			}
		}
		if got, _, err := e.read(ca, a, recA, src.ID, vault.ReadOptions{}); err != nil || !bytes.Equal(got, secret) {
			t.Fatalf("the original still reads: %v", err)
		}
		if n := outcomes(e.audited("attachment.read"))[rempart.OutcomeFailure]; n != 6 {
			t.Fatalf("audited decryption failures: got %d, want 6", n)
		}
	})
}

// TestAttachmentTampered alters stored objects: a download fails with a
// clear error and never returns a byte that did not authenticate.
func TestAttachmentTampered(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *attEnv) {
		a, ca := e.tenant("A", rempart.RoleWriter)
		rec := e.record(ca, a)
		const size = 4*seg + 100
		data := content(size, 5)
		const segCipher = seg + 16
		flip := func(b []byte, i int) []byte { c := bytes.Clone(b); c[i] ^= 1; return c }
		last := &vault.ByteRange{IsSuffix: true, SuffixLength: 10}
		for _, tc := range []struct {
			name  string
			alter func([]byte) []byte
			// good is how much of the plaintext a whole read returns before
			// its error; -1: the read fails before returning anything.
			good int
			// rng needs the damaged part: it fails before any byte.
			rng *vault.ByteRange
		}{
			{"header", func(b []byte) []byte { return flip(b, 20) }, -1, last},
			{"first segment", func(b []byte) []byte { return flip(b, keys.StreamHeaderSize+5) }, -1, &vault.ByteRange{First: 0, Last: 9}},
			{"third segment", func(b []byte) []byte { return flip(b, keys.StreamHeaderSize+2*segCipher+10) }, 2 * seg, &vault.ByteRange{First: 2*seg + 5, Last: 3*seg + 5}},
			{"truncated inside the last segment", func(b []byte) []byte { return b[:len(b)-5] }, 4 * seg, last},
			{"truncated at a segment boundary", func(b []byte) []byte { return b[:keys.StreamHeaderSize+4*segCipher] }, 4 * seg, last},
			// A range read stops at the segments it needs: it cannot see
			// what follows the last one; a whole read does.
			{"bytes appended", func(b []byte) []byte { return append(bytes.Clone(b), 0) }, 4 * seg, nil},
		} {
			att := e.upload(ca, a, rec, data)
			k := key(a, att.ID)
			e.putObject(k, tc.alter(e.objectBytes(k)))
			if tc.rng != nil {
				if got, _, err := e.read(ca, a, rec, att.ID, vault.ReadOptions{Ranges: []vault.ByteRange{*tc.rng}}); err != vault.ErrAttachmentUndecryptable || len(got) != 0 {
					t.Fatalf("%s: range read got %d bytes, %v; want ErrAttachmentUndecryptable", tc.name, len(got), err)
				}
			}
			d, err := e.v.ReadAttachment(ctx, ca, a, "calls", rec, att.ID, vault.ReadOptions{})
			if tc.good < 0 {
				if err != vault.ErrAttachmentUndecryptable {
					t.Fatalf("%s: open got %v, want ErrAttachmentUndecryptable", tc.name, err)
				}
				continue
			}
			if err != nil {
				t.Fatalf("%s: open: %v", tc.name, err)
			}
			got, err := io.ReadAll(d.Body)
			d.Body.Close()
			if err != vault.ErrAttachmentUndecryptable {
				t.Fatalf("%s: read got %v, want ErrAttachmentUndecryptable", tc.name, err)
			}
			if len(got) > tc.good || !bytes.Equal(got, data[:len(got)]) {
				t.Fatalf("%s: got %d bytes before the error (authentic: %v), want at most %d authentic bytes", tc.name, len(got), bytes.Equal(got, data[:min(len(got), size)]), tc.good)
			}
		}
		// A read that fails halfway is in the audit trail.
		var failed int
		for _, en := range e.audited("attachment.read") {
			if en.Outcome == rempart.OutcomeFailure && en.Reason == "undecryptable" {
				failed++
			}
		}
		if failed != 4 {
			t.Fatalf("audited failures during reads: got %d, want 4", failed)
		}
		// A missing object is an internal error, not an empty file.
		att := e.upload(ca, a, rec, data[:10])
		if err := e.objects.Delete(ctx, key(a, att.ID)); err != nil {
			t.Fatal(err)
		}
		if _, _, err := e.read(ca, a, rec, att.ID, vault.ReadOptions{}); rempart.ErrorCode(err) != rempart.EINTERNAL {
			t.Fatalf("missing object: got %v, want internal", err)
		}
	})
}

// failingReader returns n bytes, then err.
type failingReader struct {
	n   int
	err error
	fn  func() // called when the bytes run out
}

func (r *failingReader) Read(p []byte) (int, error) {
	if r.n == 0 {
		if r.fn != nil {
			r.fn()
		}
		return 0, r.err
	}
	k := min(len(p), r.n)
	clear(p[:k])
	r.n -= k
	return k, nil
}

type mustNotRead struct{ t *testing.T }

func (r mustNotRead) Read([]byte) (int, error) {
	r.t.Error("the body was read")
	return 0, io.EOF
}

// TestAttachmentUploadRefusals checks that a refused or failed upload leaves
// no object and no row, and is audited.
func TestAttachmentUploadRefusals(t *testing.T) {
	eachBackend(t, func(t *testing.T, base *attEnv) {
		const max = 300 << 10
		e := newAttEnv(t, base.dialect, base.storeKind, vault.AttachmentLimits{MaxBytes: max})
		a, ca := e.tenant("A", rempart.RoleWriter)
		rec := e.record(ca, a)
		gone := e.record(ca, a)
		if err := e.v.DeleteRecord(ctx, ca, a, "calls", gone, 0); err != nil {
			t.Fatal(err)
		}
		data := content(200<<10, 7)
		wrong := func() ([]byte, error) { return make([]byte, 32), nil }
		up := func(mod func(*vault.Upload)) vault.Upload {
			u := vault.Upload{Filename: "a.pdf", ContentType: "application/pdf", Size: -1}
			mod(&u)
			return u
		}
		cctx, cancel := context.WithCancel(ctx)
		defer cancel()
		for _, tc := range []struct {
			name string
			ctx  context.Context
			rec  string
			up   vault.Upload
			body io.Reader
			code string
		}{
			{"digest mismatch", ctx, rec, up(func(u *vault.Upload) { u.SHA256 = wrong }), bytes.NewReader(data), rempart.EINVALID},
			{"declared size over the limit", ctx, rec, up(func(u *vault.Upload) { u.Size = max + 1 }), mustNotRead{t}, rempart.ETOOLARGE},
			{"content over the limit", ctx, rec, up(func(*vault.Upload) {}), bytes.NewReader(content(max+1, 1)), rempart.ETOOLARGE},
			{"forbidden type", ctx, rec, up(func(u *vault.Upload) { u.ContentType = "text/html" }), mustNotRead{t}, rempart.EUNSUPPORTED},
			{"no type", ctx, rec, up(func(u *vault.Upload) { u.ContentType = "" }), mustNotRead{t}, rempart.EUNSUPPORTED},
			{"path in the filename", ctx, rec, up(func(u *vault.Upload) { u.Filename = "../etc/passwd" }), mustNotRead{t}, rempart.EINVALID},
			{"no filename", ctx, rec, up(func(u *vault.Upload) { u.Filename = "" }), mustNotRead{t}, rempart.EINVALID},
			{"deleted record", ctx, gone, up(func(*vault.Upload) {}), mustNotRead{t}, rempart.ENOTFOUND},
			{"no such record", ctx, "rec_nope", up(func(*vault.Upload) {}), mustNotRead{t}, rempart.ENOTFOUND},
			{"connection cut", ctx, rec, up(func(*vault.Upload) {}), &failingReader{n: 150 << 10, err: io.ErrUnexpectedEOF}, rempart.EINVALID},
			{"client gone", cctx, rec, up(func(*vault.Upload) {}), &failingReader{n: 150 << 10, err: context.Canceled, fn: cancel}, rempart.EINVALID},
		} {
			_, err := e.v.UploadAttachment(tc.ctx, ca, a, "calls", tc.rec, tc.up, tc.body)
			if rempart.ErrorCode(err) != tc.code || rempart.ErrorMessage(err) == "" {
				t.Fatalf("%s: got %v, want %s with a message", tc.name, err, tc.code)
			}
			if ks := e.keys(a); len(ks) != 0 {
				t.Fatalf("%s: objects left: %v", tc.name, ks)
			}
		}
		list, err := e.v.ListAttachments(ctx, ca, a, "calls", rec, false)
		if err != nil || len(list.Attachments) != 0 {
			t.Fatalf("attachments after refusals: got %d, %v; want none", len(list.Attachments), err)
		}
		if o := outcomes(e.audited("attachment.create")); o[rempart.OutcomeFailure]+o[rempart.OutcomeDenied] != 11 || o[rempart.OutcomeSuccess] != 0 {
			t.Fatalf("audited refusals: got %v, want 11 and no success", o)
		}
		// The limit itself is accepted.
		if _, err := e.v.UploadAttachment(ctx, ca, a, "calls", rec, up(func(*vault.Upload) {}), bytes.NewReader(content(max, 2))); err != nil {
			t.Fatalf("upload at the limit: %v", err)
		}
	})
}

// TestAttachmentIsolation: another tenant sees nothing, a reader cannot
// write, a suspended tenant and the system administrator read nothing
// (TEN-1, IAM-2).
func TestAttachmentIsolation(t *testing.T) {
	e := newAttEnv(t, "sqlite", "local", vault.AttachmentLimits{})
	a, ca := e.tenant("A", rempart.RoleWriter)
	_, cb := e.tenant("B", rempart.RoleAdmin)
	reader := ca
	reader.Principal.Role, reader.Principal.ID = rempart.RoleReader, rempart.NewID("sa")
	rec := e.record(ca, a)
	att := e.upload(ca, a, rec, []byte("of A"))
	body := func() io.Reader { return strings.NewReader("x") }
	upload := vault.Upload{Filename: "x.txt", ContentType: "text/plain", Size: 1}
	for _, tc := range []struct {
		name string
		c    rempart.Caller
		code string
	}{
		{"other tenant", cb, rempart.ENOTFOUND},
		{"system admin", e.system, rempart.EFORBIDDEN},
	} {
		if _, err := e.v.UploadAttachment(ctx, tc.c, a, "calls", rec, upload, body()); rempart.ErrorCode(err) != tc.code {
			t.Errorf("%s upload: got %v, want %s", tc.name, err, tc.code)
		}
		if _, err := e.v.ListAttachments(ctx, tc.c, a, "calls", rec, false); rempart.ErrorCode(err) != tc.code {
			t.Errorf("%s list: got %v, want %s", tc.name, err, tc.code)
		}
		if _, _, err := e.read(tc.c, a, rec, att.ID, vault.ReadOptions{}); rempart.ErrorCode(err) != tc.code {
			t.Errorf("%s read: got %v, want %s", tc.name, err, tc.code)
		}
		if err := e.v.DeleteAttachment(ctx, tc.c, a, "calls", rec, att.ID); rempart.ErrorCode(err) != tc.code {
			t.Errorf("%s delete: got %v, want %s", tc.name, err, tc.code)
		}
		if _, err := e.v.RestoreAttachment(ctx, tc.c, a, "calls", rec, att.ID); rempart.ErrorCode(err) != tc.code {
			t.Errorf("%s restore: got %v, want %s", tc.name, err, tc.code)
		}
	}
	if _, err := e.v.UploadAttachment(ctx, reader, a, "calls", rec, upload, body()); rempart.ErrorCode(err) != rempart.EFORBIDDEN {
		t.Errorf("reader upload: got %v, want forbidden", err)
	}
	if err := e.v.DeleteAttachment(ctx, reader, a, "calls", rec, att.ID); rempart.ErrorCode(err) != rempart.EFORBIDDEN {
		t.Errorf("reader delete: got %v, want forbidden", err)
	}
	if got, _, err := e.read(reader, a, rec, att.ID, vault.ReadOptions{}); err != nil || string(got) != "of A" {
		t.Errorf("reader read: got %q, %v", got, err)
	}
	if _, err := e.v.SetTenantStatus(ctx, e.system, a, rempart.TenantSuspended); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.read(ca, a, rec, att.ID, vault.ReadOptions{}); rempart.ErrorCode(err) != rempart.EFORBIDDEN {
		t.Errorf("suspended tenant read: got %v, want forbidden", err)
	}
	if _, err := e.v.UploadAttachment(ctx, ca, a, "calls", rec, upload, body()); rempart.ErrorCode(err) != rempart.EFORBIDDEN {
		t.Errorf("suspended tenant upload: got %v, want forbidden", err)
	}
	if ks := e.keys(a); len(ks) != 1 {
		t.Fatalf("objects of A: got %v, want only the first upload's", ks)
	}
	for _, action := range []string{"attachment.create", "attachment.list", "attachment.read", "attachment.delete", "attachment.restore"} {
		if outcomes(e.audited(action))[rempart.OutcomeDenied] == 0 {
			t.Errorf("%s: no denial audited", action)
		}
	}
}

// TestAttachmentLifecycle deletes, restores and, once the retention period is
// over, purges attachments, alone and with their record (BCK-3), with every
// step audited (AUD-1).
func TestAttachmentLifecycle(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *attEnv) {
		a, ca := e.tenant("A", rempart.RoleWriter)
		rec := e.record(ca, a)
		x := e.upload(ca, a, rec, content(seg+1, 1))
		y := e.upload(ca, a, rec, content(10, 2))
		if err := e.v.DeleteAttachment(ctx, ca, a, "calls", rec, x.ID); err != nil {
			t.Fatal(err)
		}
		live, err := e.v.ListAttachments(ctx, ca, a, "calls", rec, false)
		if err != nil || len(live.Attachments) != 1 || live.Attachments[0].ID != y.ID {
			t.Fatalf("live after delete: got %+v, %v; want y", live.Attachments, err)
		}
		del, err := e.v.ListAttachments(ctx, ca, a, "calls", rec, true)
		if err != nil || len(del.Attachments) != 1 || del.Attachments[0].ID != x.ID || del.Attachments[0].DeletedAt == nil {
			t.Fatalf("deleted listing: got %+v, %v; want x, deleted", del.Attachments, err)
		}
		if _, _, err := e.read(ca, a, rec, x.ID, vault.ReadOptions{}); rempart.ErrorCode(err) != rempart.ENOTFOUND {
			t.Fatalf("read deleted: got %v, want not_found", err)
		}
		if err := e.v.DeleteAttachment(ctx, ca, a, "calls", rec, x.ID); rempart.ErrorCode(err) != rempart.ENOTFOUND {
			t.Fatalf("delete twice: got %v, want not_found", err)
		}
		if _, err := e.v.RestoreAttachment(ctx, ca, a, "calls", rec, y.ID); rempart.ErrorCode(err) != rempart.ECONFLICT {
			t.Fatalf("restore live: got %v, want conflict", err)
		}
		back, err := e.v.RestoreAttachment(ctx, ca, a, "calls", rec, x.ID)
		if err != nil || back.DeletedAt != nil || back.Filename != "call.wav" {
			t.Fatalf("restore: got %+v, %v", back, err)
		}
		if _, _, err := e.read(ca, a, rec, x.ID, vault.ReadOptions{}); err != nil {
			t.Fatalf("read restored: %v", err)
		}
		// Deleted again, x is purged once the retention period is over.
		if err := e.v.DeleteAttachment(ctx, ca, a, "calls", rec, x.ID); err != nil {
			t.Fatal(err)
		}
		if n, err := e.v.Purge(ctx, 100); err != nil || n != 0 || len(e.keys(a)) != 2 {
			t.Fatalf("purge inside retention: got %d, %v, %d objects; want 0 and 2 objects", n, err, len(e.keys(a)))
		}
		e.clock.Advance(2 * time.Hour)
		// The store fails: the row is purged (and audited), its object stays
		// queued, and the next purge deletes it (BCK-3).
		e.objects.failDelete.Store(true)
		if n, err := e.v.Purge(ctx, 100); err == nil || n != 1 || len(e.keys(a)) != 2 {
			t.Fatalf("purge with a failing store: got %d, %v, %d objects; want 1, an error, both objects", n, err, len(e.keys(a)))
		}
		e.objects.failDelete.Store(false)
		if n, err := e.v.Purge(ctx, 100); err != nil || n != 0 {
			t.Fatalf("purge after the store recovered: got %d, %v; want 0 rows", n, err)
		}
		if ks := e.keys(a); len(ks) != 1 || ks[0] != key(a, y.ID) {
			t.Fatalf("objects after purge: got %v, want y's only", ks)
		}
		if _, err := e.v.RestoreAttachment(ctx, ca, a, "calls", rec, x.ID); rempart.ErrorCode(err) != rempart.ENOTFOUND {
			t.Fatalf("restore purged: got %v, want not_found", err)
		}
		// A deleted record hides its attachments; restored, they are back.
		if err := e.v.DeleteRecord(ctx, ca, a, "calls", rec, 0); err != nil {
			t.Fatal(err)
		}
		if _, err := e.v.ListAttachments(ctx, ca, a, "calls", rec, false); rempart.ErrorCode(err) != rempart.ENOTFOUND {
			t.Fatalf("list of a deleted record: got %v, want not_found", err)
		}
		if _, _, err := e.read(ca, a, rec, y.ID, vault.ReadOptions{}); rempart.ErrorCode(err) != rempart.ENOTFOUND {
			t.Fatalf("read of a deleted record's attachment: got %v, want not_found", err)
		}
		if _, err := e.v.RestoreRecord(ctx, ca, a, "calls", rec); err != nil {
			t.Fatal(err)
		}
		if _, _, err := e.read(ca, a, rec, y.ID, vault.ReadOptions{}); err != nil {
			t.Fatalf("read after the record's restore: %v", err)
		}
		// A record purged takes its attachments' objects with it.
		if err := e.v.DeleteRecord(ctx, ca, a, "calls", rec, 0); err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(2 * time.Hour)
		if n, err := e.v.Purge(ctx, 100); err != nil || n != 2 {
			t.Fatalf("purge of the record: got %d, %v; want 2 (the attachment and the record)", n, err)
		}
		if ks := e.keys(a); len(ks) != 0 {
			t.Fatalf("objects after the record's purge: %v", ks)
		}
		if _, err := e.v.RestoreRecord(ctx, ca, a, "calls", rec); rempart.ErrorCode(err) != rempart.ENOTFOUND {
			t.Fatalf("record after purge: got %v, want not_found", err)
		}
		for action, want := range map[string]int{"attachment.create": 2, "attachment.delete": 2, "attachment.restore": 1, "attachment.purge": 2, "record.purge": 1} {
			es := e.audited(action)
			if o := outcomes(es); o[rempart.OutcomeSuccess] != want {
				t.Errorf("%s: got %v, want %d successes", action, o, want)
			}
		}
		// Each purge is audited on its own, in the tenant's trail.
		if es := e.audited("record.purge"); len(es) != 1 || es[0].TenantID != a || es[0].Resource != "tenants/"+a+"/collections/calls/records/"+rec || es[0].Reason != "retention 1h0m0s" {
			t.Errorf("record purge entry: got %+v", es)
		}
		for _, en := range e.audited("attachment.purge") {
			if en.TenantID != a || !strings.HasPrefix(en.Resource, "tenants/"+a+"/collections/calls/records/"+rec+"/attachments/att_") {
				t.Errorf("purge entry: got %+v", en)
			}
		}
	})
}

// TestAttachmentAudit checks the entries that uploads and reads leave: who,
// what, which credential, and what was read (AUD-1).
func TestAttachmentAudit(t *testing.T) {
	e := newAttEnv(t, "sqlite", "local", vault.AttachmentLimits{})
	a, ca := e.tenant("A", rempart.RoleWriter)
	ca.RequestID, ca.IP = "req_1", "192.0.2.1"
	rec := e.record(ca, a)
	att := e.upload(ca, a, rec, content(100, 1))
	if _, err := e.v.ListAttachments(ctx, ca, a, "calls", rec, false); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.read(ca, a, rec, att.ID, vault.ReadOptions{Ranges: []vault.ByteRange{{First: 0, Last: 9}}}); err != nil {
		t.Fatal(err)
	}
	res := "tenants/" + a + "/collections/calls/records/" + rec + "/attachments"
	for action, want := range map[string]rempart.AuditEntry{
		"attachment.create": {Resource: res + "/" + att.ID},
		"attachment.list":   {Resource: res, Reason: "1 attachments"},
		"attachment.read":   {Resource: res + "/" + att.ID, Reason: "bytes 0-9/100"},
	} {
		es := e.audited(action)
		if len(es) != 1 {
			t.Fatalf("%s: got %d entries, want 1", action, len(es))
		}
		en := es[0]
		if en.TenantID != a || en.PrincipalID != ca.Principal.ID || en.CredentialID != "key_test" || en.RequestID != "req_1" || en.IP != "192.0.2.1" ||
			en.Outcome != rempart.OutcomeSuccess || en.Resource != want.Resource || en.Reason != want.Reason {
			t.Errorf("%s: got %+v, want resource %s reason %q", action, en, want.Resource, want.Reason)
		}
	}
}

// TestTenantDeletionRemovesObjects deletes a tenant: no object of it is left
// in the store, even one no row refers to, and the other tenants' stay
// (GOV-5). If the store fails, the purge job finishes the work.
func TestTenantDeletionRemovesObjects(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *attEnv) {
		a, ca := e.tenant("A", rempart.RoleWriter)
		b, cb := e.tenant("B", rempart.RoleWriter)
		recA, recB := e.record(ca, a), e.record(cb, b)
		for i := range 3 {
			e.upload(ca, a, recA, content(seg+i, byte(i)))
		}
		keep := e.upload(cb, b, recB, content(10, 9))
		e.putObject(key(a, "att_orphan"), []byte("left by a crash"))
		if err := e.v.DeleteTenant(ctx, e.system, a); err != nil {
			t.Fatal(err)
		}
		if ks := e.keys(a); len(ks) != 0 {
			t.Fatalf("objects of the deleted tenant: %v", ks)
		}
		if _, _, err := e.read(cb, b, recB, keep.ID, vault.ReadOptions{}); err != nil {
			t.Fatalf("other tenant's attachment: %v", err)
		}
		es := e.audited("attachment.purge")
		if len(es) != 1 || es[0].TenantID != a || es[0].Reason != "tenant deleted: 4 objects" || es[0].Outcome != rempart.OutcomeSuccess {
			t.Fatalf("audit of the objects' deletion: got %+v", es)
		}

		// The store fails: the tenant is deleted all the same, and the purge
		// job removes its objects later.
		c, cc := e.tenant("C", rempart.RoleWriter)
		e.upload(cc, c, e.record(cc, c), content(10, 1))
		e.objects.failDelete.Store(true)
		if err := e.v.DeleteTenant(ctx, e.system, c); err != nil {
			t.Fatal(err)
		}
		if len(e.keys(c)) != 1 {
			t.Fatal("the failing store deleted the object")
		}
		if _, err := e.v.Purge(ctx, 10); err == nil {
			t.Fatal("purge with a failing store: no error")
		}
		e.objects.failDelete.Store(false)
		if _, err := e.v.Purge(ctx, 10); err != nil {
			t.Fatal(err)
		}
		if ks := e.keys(c); len(ks) != 0 {
			t.Fatalf("objects after the purge job: %v", ks)
		}
		if o := outcomes(e.audited("attachment.purge")); o[rempart.OutcomeSuccess] != 2 || o[rempart.OutcomeFailure] != 1 {
			t.Fatalf("purge entries: got %v, want 2 successes and the failure", o)
		}
	})
}

// TestAttachmentMarkerNeverInClear uploads a content and a file name holding
// a marker: the marker is in no file of the object store (the directory, or
// the S3 server's), no file of the SQLite database, and no column of the
// attachments table (ENC-2).
func TestAttachmentMarkerNeverInClear(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *attEnv) {
		a, ca := e.tenant("A", rempart.RoleWriter)
		rec := e.record(ca, a)
		marker := "SECRET-MARKER-" + rempart.RandomSecret(10)
		data := bytes.Repeat([]byte(marker+" "), 20000) // several segments
		sum := sha256.Sum256(data)
		digest := hex.EncodeToString(sum[:])
		_, err := e.v.UploadAttachment(ctx, ca, a, "calls", rec, vault.Upload{Filename: marker + ".txt", ContentType: "text/plain", Size: -1}, bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		dirs := []string{e.objectDir}
		if e.sqliteDir != "" {
			dirs = append(dirs, e.sqliteDir)
		}
		for _, dir := range dirs {
			files := 0
			filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
				if err != nil || d.IsDir() {
					return err
				}
				files++
				b, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				if bytes.Contains(b, []byte(marker)) || bytes.Contains(b, []byte(digest)) {
					t.Errorf("marker or the content's digest found in clear in %s", path)
				}
				return nil
			})
			if files == 0 {
				t.Fatalf("no file in %s: the check saw nothing", dir)
			}
		}
		rows, err := e.rawDB.Query(`SELECT object_key, data_key_id, meta, content_type FROM attachments`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		n := 0
		for rows.Next() {
			var k, dk, ct string
			var meta []byte
			if err := rows.Scan(&k, &dk, &meta, &ct); err != nil {
				t.Fatal(err)
			}
			n++
			if row := k + dk + ct + string(meta); strings.Contains(row, marker) || strings.Contains(row, digest) {
				t.Errorf("marker or digest in the attachments row: %q %q %q", k, meta, ct)
			}
		}
		if n != 1 {
			t.Fatalf("attachments rows: got %d, want 1", n)
		}
	})
}

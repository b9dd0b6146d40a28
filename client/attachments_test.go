package client_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io"
	"testing"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/client"
)

var (
	helloSum    = sha256.Sum256([]byte("hello"))
	helloDigest = "sha-256=:" + base64.StdEncoding.EncodeToString(helloSum[:]) + ":"
	att         = rempart.Attachment{ID: "att_1", Collection: "calls", RecordID: "rec_1", Filename: "a.txt", ContentType: "text/plain", Size: 5, SHA256: hex.EncodeToString(helloSum[:]), CreatedAt: t0}
	attJS       = `{"id":"att_1","collection":"calls","record_id":"rec_1","filename":"a.txt","content_type":"text/plain","size":5,"sha256":"` + att.SHA256 + `","created_at":` + t0JSON + `}`
)

// download is a client.Download with its body read, for comparisons.
type download struct {
	Data, Filename, ContentType, SHA256 string
	Size, Offset, Length                int64
	Partial                             bool
}

func downloaded(d *client.Download, err error) (any, error) {
	if err != nil {
		return nil, err
	}
	defer d.Body.Close()
	b, err := io.ReadAll(d.Body)
	return download{Data: string(b), Filename: d.Filename, ContentType: d.ContentType, SHA256: d.SHA256, Size: d.Size, Offset: d.Offset, Length: d.Length, Partial: d.Partial}, err
}

// TestDownloadChecksContent: a whole download whose bytes do not match the
// announced SHA-256 ends in an error, not io.EOF.
func TestDownloadChecksContent(t *testing.T) {
	f := newFake(t)
	c := f.client()
	f.reply(answer{Status: 200, Body: "hellO", Header: map[string]string{"ETag": `"` + att.SHA256 + `"`}})
	_, err := downloaded(c.DownloadAttachment(ctx, "ten_1", "calls", "rec_1", "att_1", nil))
	if !errors.Is(err, client.ErrDigestMismatch) {
		t.Fatalf("altered download: got %v, want ErrDigestMismatch", err)
	}
	f.reply(problem(416, rempart.ERANGE, "The range is outside the attachment's 5 bytes."))
	if _, err := c.DownloadAttachment(ctx, "ten_1", "calls", "rec_1", "att_1", &client.Range{Offset: 9}); client.ErrorCode(err) != rempart.ERANGE {
		t.Fatalf("range outside: got %v, want range_not_satisfiable", err)
	}
	if _, err := c.DownloadAttachment(ctx, "ten_1", "calls", "rec_1", "att_1", &client.Range{Offset: -1, Length: 2}); client.ErrorCode(err) != rempart.EINVALID {
		t.Fatalf("bad range: got %v, want invalid", err)
	}
	if _, err := c.UploadAttachment(ctx, "ten_1", "calls", "rec_1", nil, client.UploadOptions{}); client.ErrorCode(err) != rempart.EINVALID {
		t.Fatalf("upload without a filename: got %v, want invalid", err)
	}
}

package client

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/rempart/rempart"
)

// UploadOptions describes a file being uploaded.
type UploadOptions struct {
	Filename    string // required
	ContentType string // the file's media type; default application/octet-stream
	// Size is the file's length, or 0 when unknown. It is sent (as
	// Content-Length) only with SHA256, so that the server can refuse an
	// over-large file before it is sent.
	Size int64
	// SHA256 is the file's SHA-256, if known beforehand: it is sent as
	// Content-Digest. Without it, the client hashes the file as it sends it
	// and sends the digest as a trailer, after a body of unknown length.
	// Either way the server keeps the file only if the digest matches.
	SHA256 []byte
}

// UploadAttachment streams body to the server as a new attachment of a
// record. Memory use does not depend on the file's size.
func (c *Client) UploadAttachment(ctx context.Context, tenant, collection, record string, body io.Reader, opts UploadOptions) (rempart.Attachment, error) {
	var out rempart.Attachment
	if opts.Filename == "" {
		return out, rempart.Errorf(rempart.EINVALID, "An attachment needs a filename.")
	}
	if opts.SHA256 != nil && len(opts.SHA256) != sha256.Size {
		return out, rempart.Errorf(rempart.EINVALID, "SHA256 must be 32 bytes.")
	}
	ct := opts.ContentType
	if ct == "" {
		ct = "application/octet-stream"
	}
	req := request{method: http.MethodPost, segs: attachmentsPath(tenant, collection, record), query: url.Values{"filename": {opts.Filename}},
		contentType: ct, want: http.StatusCreated}
	if opts.SHA256 != nil {
		req.stream, req.length = body, opts.Size
		req.header = http.Header{"Content-Digest": {contentDigest(opts.SHA256)}}
	} else {
		h := &hashingReader{r: body, h: sha256.New()}
		req.stream, req.trailer = h, http.Header{"Content-Digest": nil}
		h.done = func(sum []byte) { req.trailer.Set("Content-Digest", contentDigest(sum)) }
	}
	err := c.call(ctx, req, &out)
	return out, err
}

func contentDigest(sum []byte) string {
	return "sha-256=:" + base64.StdEncoding.EncodeToString(sum) + ":"
}

// hashingReader hashes what it reads and calls done with the sum at the end,
// before returning io.EOF (when the HTTP client still reads trailers).
type hashingReader struct {
	r    io.Reader
	h    hash.Hash
	done func([]byte)
}

func (r *hashingReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	r.h.Write(p[:n])
	if err == io.EOF && r.done != nil {
		r.done(r.h.Sum(nil))
		r.done = nil
	}
	return n, err
}

// ListAttachments returns a record's attachments, or with deleted its
// restorable deleted ones.
func (c *Client) ListAttachments(ctx context.Context, tenant, collection, record string, deleted bool) ([]rempart.Attachment, error) {
	var out rempart.AttachmentList
	req := request{method: http.MethodGet, segs: attachmentsPath(tenant, collection, record), want: http.StatusOK}
	if deleted {
		req.query = url.Values{"deleted": {"true"}}
	}
	err := c.call(ctx, req, &out)
	return out.Attachments, err
}

// Range selects part of an attachment: Length bytes from Offset (Length 0:
// to the end), or, with a negative Offset, the last -Offset bytes.
type Range struct {
	Offset, Length int64
}

func (r Range) header() (string, error) {
	switch {
	case r.Offset < 0 && r.Length == 0:
		return "bytes=" + strconv.FormatInt(r.Offset, 10), nil
	case r.Offset < 0 || r.Length < 0:
		return "", rempart.Errorf(rempart.EINVALID, "A range is an offset and a length, or a negative offset alone for the last bytes.")
	case r.Length == 0:
		return "bytes=" + strconv.FormatInt(r.Offset, 10) + "-", nil
	}
	return fmt.Sprintf("bytes=%d-%d", r.Offset, r.Offset+r.Length-1), nil
}

// Download is an attachment being downloaded: Body holds the whole file, or
// the range asked for. The caller must close Body.
type Download struct {
	Body        io.ReadCloser
	Filename    string
	ContentType string
	SHA256      string // hex, of the whole file
	Size        int64  // of the whole file
	// Offset and Length place Body in the file; Partial reports a range.
	Offset, Length int64
	Partial        bool
}

// DownloadAttachment opens an attachment, or with rng a range of it, for
// reading. A whole file is checked against its SHA-256 as it is read: Body
// returns an error rather than io.EOF if it does not match, and any body
// shorter than announced is an error too. A range outside the file is a
// rempart.ERANGE error.
func (c *Client) DownloadAttachment(ctx context.Context, tenant, collection, record, id string, rng *Range) (*Download, error) {
	req := request{method: http.MethodGet, segs: attachmentPath(tenant, collection, record, id), accept: "*/*", want: http.StatusOK}
	if rng != nil {
		h, err := rng.header()
		if err != nil {
			return nil, err
		}
		req.header, req.want = http.Header{"Range": {h}}, http.StatusPartialContent
	}
	resp, err := c.do(ctx, req)
	if err != nil {
		return nil, err
	}
	d := &Download{ContentType: resp.Header.Get("Content-Type"), SHA256: strings.Trim(resp.Header.Get("ETag"), `"`), Length: resp.ContentLength, Size: resp.ContentLength}
	if _, params, err := mime.ParseMediaType(resp.Header.Get("Content-Disposition")); err == nil {
		d.Filename = params["filename"]
	}
	if rng != nil {
		d.Partial = true
		if _, err := fmt.Sscanf(resp.Header.Get("Content-Range"), "bytes %d-%d/%d", &d.Offset, new(int64), &d.Size); err != nil {
			closeBody(resp)
			return nil, fmt.Errorf("%s %s: bad Content-Range %q", req.method, resp.Request.URL.Path, resp.Header.Get("Content-Range"))
		}
	}
	want, _ := hex.DecodeString(d.SHA256)
	if d.Partial || len(want) != sha256.Size {
		want = nil
	}
	d.Body = &checkedBody{rc: resp.Body, h: sha256.New(), want: want, left: d.Length}
	return d, nil
}

// ErrDigestMismatch is returned by a downloaded Body whose content does not
// match the SHA-256 the server announced for it.
var ErrDigestMismatch = errors.New("rempart client: the downloaded content does not match its SHA-256")

// checkedBody checks a download's length and, for a whole file, its SHA-256.
type checkedBody struct {
	rc   io.ReadCloser
	h    hash.Hash
	want []byte // nil: no hash to check
	left int64  // bytes still expected; -1: unknown
	err  error
}

func (b *checkedBody) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	n, err := b.rc.Read(p)
	if b.want != nil {
		b.h.Write(p[:n])
	}
	if b.left >= 0 {
		b.left -= int64(n)
	}
	if err == io.EOF {
		switch {
		case b.left > 0:
			err = io.ErrUnexpectedEOF
		case b.want != nil && !bytes.Equal(b.h.Sum(nil), b.want):
			err = ErrDigestMismatch
		}
	}
	if err != nil {
		b.err = err
	}
	return n, err
}

func (b *checkedBody) Close() error { return b.rc.Close() }

// DeleteAttachment soft-deletes an attachment (restorable for the retention
// period).
func (c *Client) DeleteAttachment(ctx context.Context, tenant, collection, record, id string) error {
	return c.call(ctx, request{method: http.MethodDelete, segs: attachmentPath(tenant, collection, record, id), want: http.StatusNoContent}, nil)
}

// RestoreAttachment undeletes a soft-deleted attachment.
func (c *Client) RestoreAttachment(ctx context.Context, tenant, collection, record, id string) (rempart.Attachment, error) {
	var out rempart.Attachment
	err := c.call(ctx, request{method: http.MethodPost, segs: append(attachmentPath(tenant, collection, record, id), "restore"), want: http.StatusOK}, &out)
	return out, err
}

func attachmentsPath(tenant, collection, record string) []string {
	return append(recordPath(tenant, collection, record), "attachments")
}

func attachmentPath(tenant, collection, record, id string) []string {
	return append(attachmentsPath(tenant, collection, record), id)
}

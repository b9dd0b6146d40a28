package httpapi

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"time"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/vault"
)

// Attachments: the body of an upload and of a download is the file itself,
// streamed both ways (ENC-2: the vault seals and opens it on the way).

func attachmentPath(r *http.Request, id string) string {
	return "/api/v1/tenants/" + r.PathValue("tenant") + "/collections/" + r.PathValue("collection") + "/records/" + r.PathValue("id") + "/attachments/" + id
}

func (s *Server) listAttachments(w http.ResponseWriter, r *http.Request, c rempart.Caller) error {
	list, err := s.vault.ListAttachments(r.Context(), c, r.PathValue("tenant"), r.PathValue("collection"), r.PathValue("id"), r.URL.Query().Get("deleted") == "true")
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, list)
}

// uploadAttachment stores the raw body. The file's SHA-256 may be declared
// in a Content-Digest header (RFC 9530, "sha-256=:BASE64:"), or in a
// Content-Digest trailer announced by "Trailer: Content-Digest", for a client
// that hashes as it sends; the upload is kept only if it matches.
func (s *Server) uploadAttachment(w http.ResponseWriter, r *http.Request, c rempart.Caller) error {
	declared, err := contentDigest(r.Header.Get("Content-Digest"))
	if err != nil {
		return err
	}
	digest := func() ([]byte, error) { return declared, nil }
	if declared == nil {
		if _, ok := r.Trailer[http.CanonicalHeaderKey("Content-Digest")]; ok {
			digest = func() ([]byte, error) { return contentDigest(r.Trailer.Get("Content-Digest")) }
		}
	}
	dl := newDeadlines(w)
	up := vault.Upload{Filename: r.URL.Query().Get("filename"), ContentType: r.Header.Get("Content-Type"), Size: r.ContentLength, SHA256: digest}
	att, err := s.vault.UploadAttachment(r.Context(), c, r.PathValue("tenant"), r.PathValue("collection"), r.PathValue("id"), up, &uploadBody{r: r.Body, dl: dl})
	if err != nil {
		return err
	}
	dl.touch(true)
	w.Header().Set("Location", attachmentPath(r, att.ID))
	w.Header().Set("ETag", `"`+att.SHA256+`"`)
	return writeJSON(w, http.StatusCreated, att)
}

// contentDigest returns the SHA-256 of a Content-Digest field value (RFC
// 9530: a dictionary such as `sha-256=:BASE64:, sha-512=:…:`), or nil for an
// empty one.
func contentDigest(v string) ([]byte, error) {
	if v == "" {
		return nil, nil
	}
	bad := rempart.Errorf(rempart.EINVALID, "Content-Digest must hold the file's SHA-256 as sha-256=:BASE64: (RFC 9530).")
	for _, member := range splitList(v) {
		alg, val, ok := cut(member, '=')
		if !ok || alg != "sha-256" {
			continue
		}
		if len(val) < 2 || val[0] != ':' || val[len(val)-1] != ':' {
			return nil, bad
		}
		sum, err := base64.StdEncoding.DecodeString(val[1 : len(val)-1])
		if err != nil || len(sum) != 32 {
			return nil, bad
		}
		return sum, nil
	}
	return nil, bad
}

// uploadBody is the request body as the vault reads it: the edge's size
// bound becomes a too_large problem, and the connection's deadlines move
// while bytes arrive.
type uploadBody struct {
	r  io.Reader
	dl *deadlines
}

func (b *uploadBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if n > 0 {
		b.dl.touch(false)
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		err = rempart.Errorf(rempart.ETOOLARGE, "Attachments are limited to %d bytes.", mbe.Limit)
	}
	return n, err
}

// transferIdle bounds how long an upload or a download may stall. The
// server's read and write timeouts would cut any transfer longer than them;
// during a transfer, the deadlines move on instead, as long as bytes flow.
const transferIdle = 60 * time.Second

type deadlines struct {
	rc   *http.ResponseController
	last time.Time
}

func newDeadlines(w http.ResponseWriter) *deadlines {
	d := &deadlines{rc: http.NewResponseController(w)}
	d.touch(true)
	return d
}

// touch moves the deadlines (at most once a second unless now).
func (d *deadlines) touch(now bool) {
	t := time.Now()
	if !now && t.Sub(d.last) < time.Second {
		return
	}
	d.last = t
	d.rc.SetReadDeadline(t.Add(transferIdle)) // unsupported: the server's own timeouts stay
	d.rc.SetWriteDeadline(t.Add(transferIdle))
}

// downloadAttachment streams an attachment, or one range of it (RFC 9110
// §14): "Range: bytes=a-b", "bytes=a-" or "bytes=-n" answers 206 with
// Content-Range; a range outside the content answers 416 with
// "Content-Range: bytes */SIZE"; more than one range answers 416 too.
func (s *Server) downloadAttachment(w http.ResponseWriter, r *http.Request, c rempart.Caller) error {
	var o vault.ReadOptions
	if h := r.Header.Get("Range"); h != "" {
		ranges, err := parseRange(h)
		if err != nil {
			return err
		}
		o.Ranges = ranges
		if ir := r.Header.Get("If-Range"); ir != "" {
			o.IfRange = "-" // a date or a weak tag: never this attachment's tag
			if len(ir) > 2 && ir[0] == '"' && ir[len(ir)-1] == '"' {
				o.IfRange = ir[1 : len(ir)-1]
			}
		}
	}
	d, err := s.vault.ReadAttachment(r.Context(), c, r.PathValue("tenant"), r.PathValue("collection"), r.PathValue("id"), r.PathValue("attachment"), o)
	var re *vault.RangeError
	if errors.As(err, &re) {
		w.Header().Set("Content-Range", fmt.Sprintf("bytes */%d", re.Size))
	}
	if err != nil {
		return err
	}
	defer d.Body.Close()
	sum, _ := hex.DecodeString(d.SHA256)
	h := w.Header()
	h.Set("Content-Type", d.ContentType)
	h.Set("Content-Length", strconv.FormatInt(d.Length, 10))
	h.Set("ETag", `"`+d.SHA256+`"`)
	h.Set("Repr-Digest", "sha-256=:"+base64.StdEncoding.EncodeToString(sum)+":")
	h.Set("Accept-Ranges", "bytes")
	h.Set("Content-Disposition", contentDisposition(d.Filename))
	h.Set("Cache-Control", "private, no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	status := http.StatusOK
	if d.Partial {
		h.Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", d.Offset, d.Offset+d.Length-1, d.Size))
		status = http.StatusPartialContent
	}
	dl := newDeadlines(w)
	w.WriteHeader(status)
	if r.Method == http.MethodHead {
		return nil
	}
	buf := make([]byte, 256<<10)
	for {
		n, rerr := d.Body.Read(buf)
		if n > 0 {
			dl.touch(false)
			if _, err := w.Write(buf[:n]); err != nil {
				return nil // the client went away
			}
		}
		if rerr == io.EOF {
			return nil
		}
		if rerr != nil {
			// Part of the answer is out: abort the response, so that the
			// client sees a broken transfer rather than a short file. The
			// vault has recorded the failure in the audit trail.
			s.logger.LogAttrs(r.Context(), slog.LevelError, "download failed", slog.String("request_id", requestID(r)), slog.String("path", r.URL.Path), slog.String("error", rerr.Error()))
			panic(http.ErrAbortHandler)
		}
	}
}

// contentDisposition names the file for a save dialog, as an attachment
// (never displayed inline), escaped or RFC 2231-encoded as needed.
func contentDisposition(name string) string {
	if v := mime.FormatMediaType("attachment", map[string]string{"filename": name}); v != "" {
		return v
	}
	return "attachment"
}

func (s *Server) deleteAttachment(w http.ResponseWriter, r *http.Request, c rempart.Caller) error {
	if err := s.vault.DeleteAttachment(r.Context(), c, r.PathValue("tenant"), r.PathValue("collection"), r.PathValue("id"), r.PathValue("attachment")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) restoreAttachment(w http.ResponseWriter, r *http.Request, c rempart.Caller) error {
	att, err := s.vault.RestoreAttachment(r.Context(), c, r.PathValue("tenant"), r.PathValue("collection"), r.PathValue("id"), r.PathValue("attachment"))
	if err != nil {
		return err
	}
	w.Header().Set("ETag", `"`+att.SHA256+`"`)
	return writeJSON(w, http.StatusOK, att)
}

package vault

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/guard"
	"github.com/rempart/rempart/keys"
)

// ByteRange is one HTTP byte range (RFC 9110 §14.1.2) before it is resolved
// against an attachment's size: bytes First to Last inclusive (Last -1: to
// the end), or, when IsSuffix, the last SuffixLength bytes.
type ByteRange struct {
	First, Last  int64
	IsSuffix     bool
	SuffixLength int64
}

// resolve returns the part [off, off+n) of a content of size bytes that r
// names, cut at the end, or ok=false when r is not satisfiable: it starts
// at or past the end, or it is an empty suffix (RFC 9110 §14.1.2).
func (r ByteRange) resolve(size int64) (off, n int64, ok bool) {
	if r.IsSuffix {
		if r.SuffixLength <= 0 || size == 0 {
			return 0, 0, false
		}
		n = min(r.SuffixLength, size)
		return size - n, n, true
	}
	if r.First < 0 || r.First >= size || r.Last >= 0 && r.Last < r.First {
		return 0, 0, false
	}
	last := size - 1
	if r.Last >= 0 && r.Last < last {
		last = r.Last
	}
	return r.First, last - r.First + 1, true
}

// RangeError answers a range that is not satisfiable; Size is the
// attachment's, for the Content-Range of the answer ("bytes */Size").
type RangeError struct {
	Size int64
	err  *rempart.Error
}

func (e *RangeError) Error() string { return e.err.Error() }
func (e *RangeError) Unwrap() error { return e.err }

// ReadOptions selects what ReadAttachment returns.
type ReadOptions struct {
	// Ranges is the range to read; none: the whole attachment. More than
	// one is refused (ERANGE): multipart answers are not supported.
	Ranges []ByteRange
	// IfRange, when not empty, is the SHA-256 (hex) the range is meant for:
	// if the attachment has another, Ranges are ignored.
	IfRange string
}

// Download is an attachment being read.
type Download struct {
	rempart.Attachment
	// Offset and Length are the part of the content that Body holds; Partial
	// reports that it is a range rather than the whole.
	Offset, Length int64
	Partial        bool
	// Body holds the plaintext, each segment handed out only once it has
	// authenticated; a failure is ErrAttachmentUndecryptable, recorded in
	// the audit trail. The caller must close it.
	Body io.ReadCloser
}

// ReadAttachment opens a live attachment (or a range of it) for reading. The
// read is in the audit trail before the first byte is returned (AUD-1). A
// range read fetches and decrypts only the segments that hold the range.
// A range that is not satisfiable is a *RangeError (ERANGE).
func (s *Service) ReadAttachment(ctx context.Context, c rempart.Caller, tenant, collection, record, id string, o ReadOptions) (*Download, error) {
	e := newEntry(c, tenant, "attachment.read", attachmentResource(tenant, collection, record, id))
	scope, err := s.authorize(ctx, c, tenant, guard.RecordsRead, &e)
	if err != nil {
		return nil, err
	}
	d, err := s.openAttachment(ctx, scope, collection, record, id, o)
	if err != nil {
		return nil, s.deny(ctx, e, err)
	}
	if d.Partial {
		e.Reason = fmt.Sprintf("bytes %d-%d/%d", d.Offset, d.Offset+d.Length-1, d.Size)
	}
	if _, err := s.store.Audit(ctx, e); err != nil {
		d.Body.Close()
		return nil, err
	}
	d.Body.(*plainBody).onFail = func() {
		f := e
		f.Outcome, f.Reason = rempart.OutcomeFailure, "undecryptable"
		s.store.Audit(context.WithoutCancel(ctx), f)
	}
	return d, nil
}

func (s *Service) openAttachment(ctx context.Context, scope guard.Scope, collection, record, id string, o ReadOptions) (*Download, error) {
	if s.objects == nil {
		return nil, errNoObjects
	}
	if err := checkAttachmentPath(collection, record, id); err != nil {
		return nil, err
	}
	row, err := s.store.GetAttachment(ctx, scope, collection, record, id)
	if err == nil && (row.DeletedAt != nil || row.RecordDeleted) {
		err = errNoAttachment
	}
	if err != nil {
		return nil, err
	}
	dk, err := s.dataKey(ctx, scope, row.DataKeyID)
	if rempart.ErrorCode(err) == rempart.ENOTFOUND {
		return nil, ErrAttachmentUndecryptable
	} else if err != nil {
		return nil, err
	}
	m, err := openMeta(dk, scope.TenantID(), row)
	if err != nil {
		return nil, err
	}
	d := &Download{Attachment: toAttachment(row, m), Length: row.Size}
	if len(o.Ranges) > 0 && (o.IfRange == "" || o.IfRange == m.sha256) {
		if len(o.Ranges) > 1 {
			return nil, &RangeError{Size: row.Size, err: rempart.Errorf(rempart.ERANGE, "Ask for one range per request: answers holding several ranges are not supported.")}
		}
		off, n, ok := o.Ranges[0].resolve(row.Size)
		if !ok {
			return nil, &RangeError{Size: row.Size, err: rempart.Errorf(rempart.ERANGE, "The range is outside the attachment's %d bytes.", row.Size)}
		}
		d.Offset, d.Length, d.Partial = off, n, true
	}
	ad := attachmentAD(scope.TenantID(), collection, record, id)
	var body *plainBody
	if d.Partial {
		body, err = s.openRange(ctx, row, dk, ad, d.Offset, d.Length)
	} else {
		body, err = s.openWhole(ctx, row, dk, ad)
	}
	if err != nil {
		return nil, err
	}
	// The first segment authenticates before anything is answered, so that
	// an object damaged at its start fails with a problem document rather
	// than a cut-off download.
	if err := body.prime(); err != nil {
		body.Close()
		return nil, err
	}
	d.Body = body
	return d, nil
}

// openWhole reads the whole stream, which also proves that nothing was cut
// from its end or added after it.
func (s *Service) openWhole(ctx context.Context, row AttachmentRow, dk keys.DataKey, ad []byte) (*plainBody, error) {
	rc, err := s.objects.Get(ctx, row.ObjectKey)
	if err != nil {
		return nil, objectError(err)
	}
	pr, err := keys.NewDecryptReader(rc, dk, ad)
	if err != nil {
		rc.Close()
		return nil, decryptError(err)
	}
	return &plainBody{r: pr, c: rc, want: row.Size}, nil
}

// openRange reads the stream's header, then only the whole segments that
// hold [off, off+n).
func (s *Service) openRange(ctx context.Context, row AttachmentRow, dk keys.DataKey, ad []byte, off, n int64) (*plainBody, error) {
	hr, err := s.objects.GetRange(ctx, row.ObjectKey, 0, keys.StreamHeaderSize)
	if err != nil {
		return nil, objectError(err)
	}
	header := make([]byte, keys.StreamHeaderSize)
	_, err = io.ReadFull(hr, header)
	hr.Close()
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return nil, ErrAttachmentUndecryptable
	} else if err != nil {
		return nil, objectError(err)
	}
	st, err := keys.OpenStream(header, keys.StreamCipherSize(row.Size), dk, ad)
	if err != nil {
		return nil, decryptError(err)
	}
	cOff, cLen := st.CipherRange(off, n)
	rc, err := s.objects.GetRange(ctx, row.ObjectKey, cOff, cLen)
	if err != nil {
		return nil, objectError(err)
	}
	return &plainBody{r: st.DecryptRange(rc, off, n), c: rc, want: n}, nil
}

func objectError(err error) error {
	if rempart.ErrorCode(err) == rempart.ENOTFOUND {
		return fmt.Errorf("%v: %w", err, errContentMissing)
	}
	return fmt.Errorf("read attachment: %v: %w", err, &rempart.Error{Code: rempart.EUNAVAILABLE, Message: "The attachment store cannot be read right now."})
}

func decryptError(err error) error {
	if errors.Is(err, keys.ErrDecrypt) {
		return ErrAttachmentUndecryptable
	}
	return objectError(err)
}

// plainBody hands out want bytes of authenticated plaintext and reports any
// failure as ErrAttachmentUndecryptable (or the store's error), never a
// clean end: a content shorter or longer than its row says is a failure
// too.
type plainBody struct {
	r      io.Reader
	c      io.Closer
	want   int64
	got    int64
	head   []byte // primed plaintext not yet read
	err    error
	onFail func() // records a failure in the audit trail, once
}

// prime reads the first segment.
func (b *plainBody) prime() error {
	buf := make([]byte, keys.StreamSegmentSize)
	n, err := io.ReadFull(b, buf)
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		err = nil // the whole content fits in buf; b remembers its end
	}
	b.head = buf[:n]
	return err
}

func (b *plainBody) Read(p []byte) (int, error) {
	if len(b.head) > 0 {
		n := copy(p, b.head)
		b.head = b.head[n:]
		return n, nil
	}
	if b.err != nil {
		return 0, b.err
	}
	n, err := b.r.Read(p)
	b.got += int64(n)
	switch {
	case b.got > b.want:
		err = ErrAttachmentUndecryptable
		n = 0
	case err == io.EOF && b.got < b.want:
		err = ErrAttachmentUndecryptable
	case err == io.EOF:
	case errors.Is(err, keys.ErrDecrypt):
		err = ErrAttachmentUndecryptable
	case err != nil:
		err = objectError(err)
	}
	if err != nil {
		b.err = err
		if err != io.EOF && b.onFail != nil {
			b.onFail()
			b.onFail = nil
		}
	}
	return n, err
}

func (b *plainBody) Close() error { return b.c.Close() }

package vault

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/guard"
	"github.com/rempart/rempart/keys"
)

// Attachments are files of records, such as call recordings and documents.
// Each one's content is one object of the attachments store, sealed as one
// stream (keys.NewEncryptWriter) under the tenant's active data key, with the
// tenant, collection, record and attachment IDs as associated data, so that
// an object moved to another tenant, record or attachment does not decrypt
// (ENC-2, TEN-2). Uploads and downloads stream: neither holds more than a few
// segments in memory, whatever the size, and the plaintext never touches
// disk.

// Objects is where attachments' sealed content lives: a local directory or
// S3-compatible storage (cmd/rempart passes package blobs through
// internal/blobstore). Keys are segments of lowercase [a-z0-9._-] separated
// by "/".
type Objects interface {
	// Put stores r under key. The object is visible only once complete; a
	// failed Put leaves none.
	Put(ctx context.Context, key string, r io.Reader) (int64, error)
	// Get returns the whole object; a missing one is ENOTFOUND.
	Get(ctx context.Context, key string) (io.ReadCloser, error)
	// GetRange returns length bytes of the object from off (length -1: to
	// the end); a missing one is ENOTFOUND.
	GetRange(ctx context.Context, key string, off, length int64) (io.ReadCloser, error)
	// Delete removes the object; a missing one is not an error.
	Delete(ctx context.Context, key string) error
	// Keys lists the keys under prefix.
	Keys(ctx context.Context, prefix string) ([]string, error)
}

// AttachmentLimits bounds what may be attached (NET-2).
type AttachmentLimits struct {
	// MaxBytes is the largest attachment accepted; default 5 GiB.
	MaxBytes int64
	// ContentTypes are the media types accepted: "type/subtype", or
	// "type/*" for every subtype. Default: DefaultContentTypes.
	ContentTypes []string
	// MaxPerRecord bounds a record's attachments, deleted ones included
	// until they are purged; default 1000.
	MaxPerRecord int
}

// DefaultContentTypes are the media types accepted by default: audio, video
// and images, PDF, plain text and CSV, opaque binary, and common office
// documents.
var DefaultContentTypes = []string{
	"audio/*", "video/*", "image/*",
	"application/pdf", "text/plain", "text/csv", "application/octet-stream",
	"application/msword",
	"application/vnd.openxmlformats-officedocument.wordprocessingml.document",
	"application/vnd.ms-excel",
	"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
	"application/vnd.ms-powerpoint",
	"application/vnd.openxmlformats-officedocument.presentationml.presentation",
	"application/vnd.oasis.opendocument.text",
	"application/vnd.oasis.opendocument.spreadsheet",
	"application/vnd.oasis.opendocument.presentation",
	"application/rtf",
}

// DefaultMaxAttachmentBytes is the default size limit of an attachment.
const DefaultMaxAttachmentBytes = 5 << 30

func (l AttachmentLimits) withDefaults() AttachmentLimits {
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultMaxAttachmentBytes
	}
	if len(l.ContentTypes) == 0 {
		l.ContentTypes = DefaultContentTypes
	}
	if l.MaxPerRecord <= 0 {
		l.MaxPerRecord = 1000
	}
	return l
}

var mediaPatternRE = regexp.MustCompile(`^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}/(\*|[a-z0-9][a-z0-9!#$&^_.+-]{0,126})$`)

// CheckContentTypes reports whether every entry of an allowlist is a media
// type ("audio/mpeg") or a whole type ("audio/*"), in lowercase.
func CheckContentTypes(types []string) error {
	if len(types) == 0 {
		return errors.New("the list of attachment types is empty")
	}
	for _, t := range types {
		if !mediaPatternRE.MatchString(t) {
			return fmt.Errorf("%q is not a media type like audio/mpeg or audio/*", t)
		}
	}
	return nil
}

// MaxAttachmentBytes is the largest attachment the service accepts.
func (s *Service) MaxAttachmentBytes() int64 { return s.attach.MaxBytes }

var (
	attachmentIDRE = regexp.MustCompile(`^att_[0-9a-z]{26}$`)
	keySegmentRE   = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,127}$`)
)

// ErrAttachmentUndecryptable is returned when an attachment's stored content
// or name does not open under its tenant's key: it was altered, truncated or
// moved from another tenant, record or attachment (TEN-2). No byte that did
// not authenticate is ever returned.
var ErrAttachmentUndecryptable = &rempart.Error{Code: rempart.EINTERNAL, Message: "The attachment cannot be decrypted."}

var (
	errNoObjects      = &rempart.Error{Code: rempart.EUNAVAILABLE, Message: "Attachments are not enabled on this server."}
	errNoAttachment   = &rempart.Error{Code: rempart.ENOTFOUND, Message: "Attachment not found."}
	errNoRecord       = &rempart.Error{Code: rempart.ENOTFOUND, Message: "Record not found."}
	errContentMissing = &rempart.Error{Code: rempart.EINTERNAL, Message: "The attachment's content is missing from the object store."}
	errStoreDown      = &rempart.Error{Code: rempart.EUNAVAILABLE, Message: "The attachment store cannot take the request right now; nothing was stored."}
)

func attachmentResource(tenant, collection, record, id string) string {
	r := recordResource(tenant, collection, record) + "/attachments"
	if id != "" {
		r += "/" + id
	}
	return r
}

// objectKey names an attachment's object: its tenant and its random ID,
// nothing else (the object store lists keys in clear).
func objectKey(tenant, id string) string { return "attachments/" + tenant + "/" + id }

func tenantPrefix(tenant string) string { return "attachments/" + tenant + "/" }

// attachmentAD binds a content stream to its tenant, record and attachment.
// Attachments never change, so their ID names one version.
func attachmentAD(tenant, collection, record, id string) []byte {
	return keys.AD("rempart/attachment/v1", tenant, collection, record, id)
}

func attachmentMetaAD(tenant, collection, record, id string) []byte {
	return keys.AD("rempart/attachment-meta/v1", tenant, collection, record, id)
}

func checkAttachmentPath(collection, record, id string) error {
	if record == "" {
		return rempart.Errorf(rempart.EINVALID, "A record ID is required.")
	}
	if err := checkPath(collection, record); err != nil {
		return err
	}
	if id != "" && !attachmentIDRE.MatchString(id) {
		return rempart.Errorf(rempart.EINVALID, "Attachment IDs are made by the server and look like att_ followed by 26 lowercase letters and digits.")
	}
	return nil
}

// checkFilename accepts 1 to 255 bytes of UTF-8 text without control
// characters or path separators.
func checkFilename(name string) error {
	if name == "" || len(name) > 255 || !utf8.ValidString(name) || name == "." || name == ".." ||
		strings.ContainsAny(name, `/\`) || strings.IndexFunc(name, unicode.IsControl) >= 0 {
		return rempart.Errorf(rempart.EINVALID, `The filename must be 1 to 255 bytes of UTF-8 text without control characters, "/" or "\".`)
	}
	return nil
}

// contentType checks a Content-Type against the allowlist and returns it
// normalised: the media type in lowercase, with its charset if it had one.
func (l AttachmentLimits) contentType(raw string) (string, error) {
	mt, params, err := mime.ParseMediaType(raw)
	if raw == "" || err != nil || len(mt) > 255 || !strings.Contains(mt, "/") {
		return "", rempart.Errorf(rempart.EUNSUPPORTED, "Content-Type must be the file's media type, such as audio/mpeg or application/pdf.")
	}
	allowed := false
	for _, p := range l.ContentTypes {
		if p == mt || strings.HasSuffix(p, "/*") && strings.HasPrefix(mt, p[:len(p)-1]) {
			allowed = true
			break
		}
	}
	if !allowed {
		return "", rempart.Errorf(rempart.EUNSUPPORTED, "Attachments of type %s are not accepted; accepted types: %s.", mt, strings.Join(l.ContentTypes, ", "))
	}
	if cs := strings.ToLower(params["charset"]); cs != "" && len(cs) <= 40 {
		if out := mime.FormatMediaType(mt, map[string]string{"charset": cs}); out != "" {
			return out, nil
		}
	}
	return mt, nil
}

// Upload describes an attachment being uploaded.
type Upload struct {
	Filename    string
	ContentType string // the file's media type, checked against the allowlist
	// Size is the length the client declared, or -1 when unknown; over the
	// limit, the upload is refused before anything is read.
	Size int64
	// SHA256, if not nil, is called once the whole content is read and
	// returns the SHA-256 the client declared (nil: none). The upload is
	// kept only if it matches. Being called at the end, it may read an HTTP
	// trailer.
	SHA256 func() ([]byte, error)
}

// UploadAttachment stores the content read from body as a new attachment of
// a live record. The content is hashed, counted and sealed as it streams to
// the object store; the object is written first, then its row is inserted
// with the audit entry in one transaction (AUD-1). If anything fails (the
// size limit, a declared SHA-256 that does not match, a client that
// disconnects, the store, the database), nothing is kept: the object store
// makes no partial object visible, and an object already written is deleted.
func (s *Service) UploadAttachment(ctx context.Context, c rempart.Caller, tenant, collection, record string, up Upload, body io.Reader) (rempart.Attachment, error) {
	id := rempart.NewID("att")
	e := newEntry(c, tenant, "attachment.create", attachmentResource(tenant, collection, record, id))
	scope, err := s.authorize(ctx, c, tenant, guard.RecordsWrite, &e)
	if err != nil {
		return rempart.Attachment{}, err
	}
	ct, err := s.checkUpload(collection, record, up)
	if err == nil {
		err = s.store.RecordLive(ctx, scope, collection, record)
	}
	if err != nil {
		return rempart.Attachment{}, s.deny(ctx, e, err)
	}
	dk, err := s.dataKey(ctx, scope, "")
	if err != nil {
		return rempart.Attachment{}, err
	}
	row := AttachmentRow{TenantID: tenant, Collection: collection, RecordID: record, ID: id, ObjectKey: objectKey(tenant, id),
		DataKeyID: dk.ID, ContentType: ct, CreatedAt: s.clock.Now()}
	sl, err := newSealer(body, dk, attachmentAD(tenant, collection, record, id), s.attach.MaxBytes, up.SHA256)
	if err != nil {
		return rempart.Attachment{}, err
	}
	_, err = s.objects.Put(ctx, row.ObjectKey, sl)
	if err != nil {
		s.discard(ctx, row.ObjectKey)
		return rempart.Attachment{}, s.deny(context.WithoutCancel(ctx), e, sl.cause(ctx, err))
	}
	sum := hex.EncodeToString(sl.sum)
	row.Size, row.SealedMeta = sl.n, keys.Seal(dk.AEAD, []byte(sum+"\x00"+up.Filename), attachmentMetaAD(tenant, collection, record, id))
	// The content is complete and checked: the row commits even if the
	// client has gone meanwhile, so that the audit trail says what is kept.
	if err := s.store.CreateAttachment(context.WithoutCancel(ctx), scope, e, row, s.attach.MaxPerRecord); err != nil {
		s.discard(ctx, row.ObjectKey)
		return rempart.Attachment{}, err
	}
	return toAttachment(row, meta{sha256: sum, name: up.Filename}), nil
}

func (s *Service) checkUpload(collection, record string, up Upload) (string, error) {
	if s.objects == nil {
		return "", errNoObjects
	}
	if err := checkAttachmentPath(collection, record, ""); err != nil {
		return "", err
	}
	if err := checkFilename(up.Filename); err != nil {
		return "", err
	}
	ct, err := s.attach.contentType(up.ContentType)
	if err != nil {
		return "", err
	}
	if up.Size > s.attach.MaxBytes {
		return "", tooLarge(s.attach.MaxBytes)
	}
	return ct, nil
}

func tooLarge(max int64) error {
	return rempart.Errorf(rempart.ETOOLARGE, "Attachments are limited to %d bytes.", max)
}

// discard deletes an object whose upload failed. If even that fails, the
// object stays unreferenced: sealed under the tenant's keys, and removed
// with the tenant's other objects when the tenant is deleted.
func (s *Service) discard(ctx context.Context, key string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	s.objects.Delete(ctx, key)
}

// meta is an attachment's sealed metadata: its content's digest and its file
// name.
type meta struct{ sha256, name string }

// openMeta decrypts an attachment's digest and file name.
func (s *Service) openMeta(ctx context.Context, scope guard.Scope, row AttachmentRow) (meta, error) {
	dk, err := s.dataKey(ctx, scope, row.DataKeyID)
	if rempart.ErrorCode(err) == rempart.ENOTFOUND {
		return meta{}, ErrAttachmentUndecryptable
	} else if err != nil {
		return meta{}, err
	}
	return openMeta(dk, scope.TenantID(), row)
}

func openMeta(dk keys.DataKey, tenant string, row AttachmentRow) (meta, error) {
	b, err := keys.Open(dk.AEAD, row.SealedMeta, attachmentMetaAD(tenant, row.Collection, row.RecordID, row.ID))
	if err != nil {
		return meta{}, ErrAttachmentUndecryptable
	}
	sum, name, ok := strings.Cut(string(b), "\x00")
	if !ok {
		return meta{}, ErrAttachmentUndecryptable
	}
	return meta{sha256: sum, name: name}, nil
}

func toAttachment(row AttachmentRow, m meta) rempart.Attachment {
	return rempart.Attachment{ID: row.ID, Collection: row.Collection, RecordID: row.RecordID, Filename: m.name, ContentType: row.ContentType,
		Size: row.Size, SHA256: m.sha256, CreatedAt: row.CreatedAt, DeletedAt: row.DeletedAt}
}

// ListAttachments returns a record's attachments (with deleted, its
// restorable deleted ones instead), oldest first.
func (s *Service) ListAttachments(ctx context.Context, c rempart.Caller, tenant, collection, record string, deleted bool) (rempart.AttachmentList, error) {
	e := newEntry(c, tenant, "attachment.list", attachmentResource(tenant, collection, record, ""))
	scope, err := s.authorize(ctx, c, tenant, guard.RecordsRead, &e)
	if err != nil {
		return rempart.AttachmentList{}, err
	}
	err = checkAttachmentPath(collection, record, "")
	if err == nil {
		err = s.store.RecordLive(ctx, scope, collection, record)
	}
	if err != nil {
		return rempart.AttachmentList{}, s.deny(ctx, e, err)
	}
	rows, err := s.store.ListAttachments(ctx, scope, collection, record, deleted)
	if err != nil {
		return rempart.AttachmentList{}, err
	}
	out := rempart.AttachmentList{Attachments: make([]rempart.Attachment, 0, len(rows))}
	for _, row := range rows {
		m, err := s.openMeta(ctx, scope, row)
		if err != nil {
			return rempart.AttachmentList{}, s.deny(ctx, e, err)
		}
		out.Attachments = append(out.Attachments, toAttachment(row, m))
	}
	e.Reason = fmt.Sprintf("%d attachments", len(out.Attachments))
	if _, err := s.store.Audit(ctx, e); err != nil {
		return rempart.AttachmentList{}, err
	}
	return out, nil
}

// DeleteAttachment soft-deletes an attachment: it stays restorable for the
// retention period, then the purge job deletes its object and its row
// (BCK-3).
func (s *Service) DeleteAttachment(ctx context.Context, c rempart.Caller, tenant, collection, record, id string) error {
	now := s.clock.Now()
	_, err := s.setDeleted(ctx, c, tenant, collection, record, id, "attachment.delete", &now, nil, func(cur AttachmentRow) error {
		if cur.DeletedAt != nil || cur.RecordDeleted {
			return errNoAttachment
		}
		return nil
	})
	return err
}

// RestoreAttachment brings back a soft-deleted attachment within the
// retention period (past it, the attachment is not found). Its record must
// be live: restore the record first.
func (s *Service) RestoreAttachment(ctx context.Context, c rempart.Caller, tenant, collection, record, id string) (rempart.Attachment, error) {
	var window time.Duration
	before := func(scope guard.Scope) (err error) {
		window, err = s.restoreWindow(ctx, scope, collection)
		return err
	}
	now := s.clock.Now()
	return s.setDeleted(ctx, c, tenant, collection, record, id, "attachment.restore", nil, before, func(cur AttachmentRow) error {
		if cur.RecordDeleted {
			return rempart.Errorf(rempart.ENOTFOUND, "The record of this attachment is deleted: restore the record first.")
		}
		if cur.DeletedAt == nil {
			return rempart.Errorf(rempart.ECONFLICT, "The attachment is not deleted.")
		}
		if !now.Before(cur.DeletedAt.Add(window)) {
			return errRetentionOver("attachment", window)
		}
		return nil
	})
}

// setDeleted soft-deletes (at set) or restores an attachment once check
// accepts it. before, if not nil, runs once the caller is authorised,
// outside the write transaction.
func (s *Service) setDeleted(ctx context.Context, c rempart.Caller, tenant, collection, record, id, action string, at *time.Time, before func(guard.Scope) error, check func(AttachmentRow) error) (rempart.Attachment, error) {
	e := newEntry(c, tenant, action, attachmentResource(tenant, collection, record, id))
	scope, err := s.authorize(ctx, c, tenant, guard.RecordsWrite, &e)
	if err != nil {
		return rempart.Attachment{}, err
	}
	if err := checkAttachmentPath(collection, record, id); err != nil {
		return rempart.Attachment{}, s.deny(ctx, e, err)
	}
	if before != nil {
		if err := before(scope); err != nil {
			return rempart.Attachment{}, err
		}
	}
	row, err := s.store.SetAttachmentDeleted(ctx, scope, e, collection, record, id, at, check)
	if err != nil {
		return rempart.Attachment{}, err
	}
	m, err := s.openMeta(ctx, scope, row)
	if err != nil {
		return rempart.Attachment{}, err
	}
	return toAttachment(row, m), nil
}

// Package blobstore adapts a blobs.Store to the object interfaces of the
// domain packages (backup.Objects and the attachments' store): a missing
// object becomes a rempart ENOTFOUND error and listings become key slices.
package blobstore

import (
	"context"
	"errors"
	"io"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/blobs"
)

// Objects is a blobs.Store seen by the domain.
type Objects struct{ *blobs.Store }

// Get returns the object, or ENOTFOUND.
func (o Objects) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	rc, err := o.Store.Get(ctx, key)
	return rc, mapErr(err, key)
}

// GetRange returns bytes [off, off+length) of the object (length −1: to the
// end), or ENOTFOUND.
func (o Objects) GetRange(ctx context.Context, key string, off, length int64) (io.ReadCloser, error) {
	rc, err := o.Store.GetRange(ctx, key, off, length)
	return rc, mapErr(err, key)
}

// Delete removes the object; a missing one is not an error.
func (o Objects) Delete(ctx context.Context, key string) error {
	if err := o.Store.Delete(ctx, key); err != nil && !errors.Is(err, blobs.ErrNotFound) {
		return err
	}
	return nil
}

// Keys lists the keys under prefix.
func (o Objects) Keys(ctx context.Context, prefix string) ([]string, error) {
	var out []string
	for info, err := range o.Store.List(ctx, prefix) {
		if err != nil {
			return nil, err
		}
		out = append(out, info.Key)
	}
	return out, nil
}

func mapErr(err error, key string) error {
	if errors.Is(err, blobs.ErrNotFound) {
		return rempart.Errorf(rempart.ENOTFOUND, "Object %s not found.", key)
	}
	return err
}

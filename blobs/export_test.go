package blobs

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// ETag returns the object's entity tag, which tells a multipart upload on S3
// ("…-N") from a single one.
func ETag(ctx context.Context, s *Store, key string) (string, error) {
	a, err := s.bucket.Attributes(ctx, key)
	if err != nil {
		return "", err
	}
	return a.ETag, nil
}

// PendingUploads lists the keys of the multipart uploads in progress on an S3
// store (nil on a local store).
func PendingUploads(ctx context.Context, s *Store) ([]string, error) {
	if s.s3 == nil {
		return nil, nil
	}
	out, err := s.s3.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String(s.bucketName)})
	if err != nil {
		return nil, err
	}
	var keys []string
	for _, u := range out.Uploads {
		keys = append(keys, aws.ToString(u.Key))
	}
	return keys, nil
}

// Dir returns the root directory of a local store ("" for S3).
func Dir(s *Store) string { return s.dir }

// RecordDirSyncs records the directories Put syncs, until the test ends.
func RecordDirSyncs(t interface{ Cleanup(func()) }) *[]string {
	var synced []string
	orig := syncDir
	syncDir = func(dir string) error { synced = append(synced, dir); return orig(dir) }
	t.Cleanup(func() { syncDir = orig })
	return &synced
}

package blobs

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// Open opens the store at location, which is one of:
//
//   - a filesystem path, or "file:///absolute/path": a local directory,
//     created with mode 0700 if missing;
//   - "s3://BUCKET?PARAMS": a bucket of S3-compatible object storage.
//
// The parameters of an S3 location, each optional:
//
//   - region: the bucket's region, such as "eu-west-3". Without it the region
//     comes from the AWS environment or configuration (AWS_REGION,
//     ~/.aws/config); one of them must give it.
//   - endpoint: the service URL for S3-compatible storage other than AWS, such
//     as "https://s3.example.net". It must use https, except on a loopback
//     address, since objects leave the machine (ENC-4).
//   - use_path_style: "true" to address the bucket as ENDPOINT/BUCKET rather
//     than BUCKET.ENDPOINT, as most S3-compatible servers need.
//
// Credentials are never part of a location: they come from the standard AWS
// sources (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE and the
// shared files, web identity, container or instance roles). AWS_CA_BUNDLE
// adds a certificate authority for a private endpoint. Open checks that the
// bucket answers (a HeadBucket request), and fails with ErrUnreachable if the
// endpoint cannot be reached. The credentials need s3:ListBucket,
// s3:GetObject, s3:PutObject, s3:DeleteObject and s3:AbortMultipartUpload on
// the bucket.
//
// Anything else is refused.
func Open(ctx context.Context, location string) (*Store, error) {
	switch {
	case location == "":
		return nil, errors.New("open blob store: empty location")
	case strings.HasPrefix(location, "s3://"):
		return openS3(ctx, location)
	case strings.HasPrefix(location, "file://"):
		u, err := url.Parse(location)
		if err != nil {
			return nil, errors.New("open blob store: malformed file:// location")
		}
		if u.Host != "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" || !strings.HasPrefix(u.Path, "/") {
			return nil, errors.New("open blob store: a file location must be file:///absolute/path, with no host or parameters")
		}
		return openLocal(u.Path)
	case strings.Contains(location, "://"):
		scheme, _, _ := strings.Cut(location, "://")
		return nil, fmt.Errorf("open blob store: unsupported scheme %s (want a path, file:///path or s3://bucket)", quote(scheme))
	}
	return openLocal(location)
}

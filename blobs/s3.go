package blobs

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"gocloud.dev/blob/s3blob"
)

const (
	// dialTimeout bounds each attempt to connect: the SDK makes three, so an
	// endpoint that drops packets fails in well under a minute.
	dialTimeout = 5 * time.Second
	// checkTimeout bounds Open's check that the bucket answers.
	checkTimeout = 30 * time.Second
	// abortTimeout bounds the cleanup of a failed multipart upload.
	abortTimeout = 30 * time.Second
)

// openS3 opens an "s3://BUCKET?PARAMS" location (see Open). Error messages
// name the bucket and parameter names but never echo parameter values, so
// nothing secret pasted into a location ends up in logs.
func openS3(ctx context.Context, location string) (*Store, error) {
	u, err := url.Parse(location)
	if err != nil {
		return nil, errors.New("open blob store: malformed s3:// location")
	}
	if u.User != nil {
		return nil, errors.New("open blob store: an s3 location must not hold credentials; they come from the AWS environment or configuration")
	}
	bucket := u.Host
	if bucket == "" || u.Port() != "" || (u.Path != "" && u.Path != "/") || u.Fragment != "" {
		return nil, errors.New("open blob store: an s3 location is s3://BUCKET?region=…&endpoint=…&use_path_style=true")
	}
	name := "s3://" + bucket
	p, err := parseS3Params(u.RawQuery)
	if err != nil {
		return nil, fmt.Errorf("open blob store %s: %w", name, err)
	}

	client := awshttp.NewBuildableClient().WithDialerOptions(func(d *net.Dialer) { d.Timeout = dialTimeout })
	opts := []func(*config.LoadOptions) error{config.WithHTTPClient(client)}
	if p.region != "" {
		opts = append(opts, config.WithRegion(p.region))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("open blob store %s: load AWS configuration: %w", name, err)
	}
	if cfg.Region == "" {
		return nil, fmt.Errorf("open blob store %s: no region: add region= to the location or set AWS_REGION", name)
	}
	s3c := s3.NewFromConfig(cfg, func(o *s3.Options) {
		if p.endpoint != "" {
			o.BaseEndpoint = aws.String(p.endpoint)
		}
		o.UsePathStyle = p.pathStyle
		// Objects uploaded in parts have no whole-object checksum to check
		// on download; the SDK would log that on every such Get.
		o.DisableLogOutputChecksumValidationSkipped = true
	})
	b, err := s3blob.OpenBucket(ctx, s3c, bucket, &s3blob.Options{
		// Honour AWS_REQUEST_CHECKSUM_CALCULATION for the uploads too.
		RequestChecksumCalculation: cfg.RequestChecksumCalculation,
	})
	if err != nil {
		return nil, fmt.Errorf("open blob store %s: %w", name, err)
	}
	s := &Store{bucket: b, name: name, s3: s3c, bucketName: bucket}
	if err := s.checkBucket(ctx); err != nil {
		b.Close()
		return nil, fmt.Errorf("open blob store %s: %w", name, err)
	}
	return s, nil
}

type s3Params struct {
	region, endpoint string
	pathStyle        bool
}

func parseS3Params(rawQuery string) (s3Params, error) {
	var p s3Params
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return p, errors.New("malformed parameters")
	}
	for k, vs := range q {
		if len(vs) != 1 {
			return p, fmt.Errorf("parameter %s given more than once", quote(k))
		}
		v := vs[0]
		switch k {
		case "region":
			p.region = v
		case "endpoint":
			if err := checkEndpoint(v); err != nil {
				return p, err
			}
			p.endpoint = v
		case "use_path_style":
			if p.pathStyle, err = strconv.ParseBool(v); err != nil {
				return p, errors.New("use_path_style must be true or false")
			}
		default:
			return p, fmt.Errorf("unknown parameter %s (want region, endpoint, use_path_style)", quote(k))
		}
	}
	return p, nil
}

// checkEndpoint accepts https URLs, and http ones only on a loopback address,
// since objects leave the machine only over verified TLS (ENC-4).
func checkEndpoint(endpoint string) error {
	u, err := url.Parse(endpoint)
	if err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return errors.New("endpoint must be a URL such as https://s3.example.net, with no credentials or parameters")
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if h := u.Hostname(); h == "localhost" || net.ParseIP(h).IsLoopback() {
			return nil
		}
		return errors.New("endpoint must use https (http is allowed only on a loopback address)")
	}
	return errors.New("endpoint must be an https URL")
}

// checkBucket makes one request, so that a wrong endpoint, bucket, region or
// credentials show at Open rather than at the first upload.
func (s *Store) checkBucket(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, checkTimeout)
	defer cancel()
	_, err := s.s3.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(s.bucketName)})
	if err == nil {
		return nil
	}
	if u := unreachable(err); u != nil {
		return u
	}
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		switch re.HTTPStatusCode() {
		case http.StatusNotFound:
			return errors.New("bucket not found")
		case http.StatusForbidden, http.StatusUnauthorized:
			return errors.New("access denied: check the credentials and the bucket policy")
		case http.StatusMovedPermanently:
			return errors.New("the bucket is in another region: set region=")
		}
	}
	return fmt.Errorf("check bucket: %w", err)
}

// abortUploads aborts the multipart upload that a failed Put may have left
// (err is the upload's error). The transfer manager aborts on its own unless
// the Put's context had ended, since it aborts with that same context; this
// uses a fresh one. Parts of an upload whose creation was cut short can still
// remain, out of sight of List and Get: a lifecycle rule that aborts
// incomplete multipart uploads removes them.
func (s *Store) abortUploads(ctx context.Context, key string, err error) {
	var failed interface{ UploadID() string }
	if s.s3 == nil || !errors.As(err, &failed) || failed.UploadID() == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), abortTimeout)
	defer cancel()
	// An error means it was aborted already, or the store is unreachable: in
	// both cases there is nothing more to do here.
	_, _ = s.s3.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{
		Bucket:   aws.String(s.bucketName),
		Key:      aws.String(key),
		UploadId: aws.String(failed.UploadID()),
	})
}

// rangeNotSatisfiable reports whether err is S3's answer to a range that
// starts at or past the end of an object.
func rangeNotSatisfiable(err error) bool {
	var re *awshttp.ResponseError
	return errors.As(err, &re) && re.HTTPStatusCode() == http.StatusRequestedRangeNotSatisfiable
}

// unreachable returns err as an ErrUnreachable if it is a failure to connect
// to the store, or nil.
func unreachable(err error) error {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return fmt.Errorf("%w: %w", ErrUnreachable, op)
	}
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return fmt.Errorf("%w: %w", ErrUnreachable, dns)
	}
	return nil
}

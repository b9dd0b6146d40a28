// Package client is the Go client of the rempart REST API (/api/v1). The CLI
// and the end-to-end tests use it; it speaks plain net/http and shares the
// JSON shapes of package rempart with the server.
//
// Every method takes a context, sends the configured API key as a bearer
// token, reads at most MaxResponseBytes of a response and always closes (and
// drains) the body so that connections are reused. Errors answered by the
// server are *Error values carrying the RFC 9457 problem document.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/rempart/rempart"
)

// MaxResponseBytes bounds the body of any response the client decodes. The
// audit export, which is streamed to a writer, is not bounded.
const MaxResponseBytes = 16 << 20

// DefaultUserAgent is sent when no WithUserAgent option is given.
const DefaultUserAgent = "rempart-client/1"

// Client talks to one rempart server. It is safe for concurrent use.
type Client struct {
	base      string // scheme://host[/prefix]/api/v1, no trailing slash
	baseErr   error
	apiKey    string
	userAgent string
	hc        *http.Client
}

// Option configures a Client.
type Option func(*Client)

// WithAPIKey sets the API key secret (rk_…) sent as a bearer token.
func WithAPIKey(secret string) Option { return func(c *Client) { c.apiKey = secret } }

// WithHTTPClient sets the HTTP client, for TLS settings, timeouts or a
// shared transport.
func WithHTTPClient(hc *http.Client) Option { return func(c *Client) { c.hc = hc } }

// WithUserAgent sets the User-Agent header.
func WithUserAgent(ua string) Option { return func(c *Client) { c.userAgent = ua } }

// New returns a client of the server at baseURL, such as
// "https://rempart.example.com:8443". The API path /api/v1 is appended unless
// baseURL already ends with it. An invalid URL is reported by every call.
//
// Without WithHTTPClient the client uses its own transport (a copy of
// http.DefaultTransport keeping up to 64 idle connections per host) and no
// overall timeout: bound calls with their context.
func New(baseURL string, opts ...Option) *Client {
	c := &Client{userAgent: DefaultUserAgent}
	c.base, c.baseErr = apiBase(baseURL)
	for _, o := range opts {
		o(c)
	}
	if c.hc == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConnsPerHost = 64
		c.hc = &http.Client{Transport: t}
	}
	return c
}

// WithKey returns a copy of c that sends another API key, sharing c's HTTP
// client and so its connections.
func (c *Client) WithKey(secret string) *Client {
	cc := *c
	cc.apiKey = secret
	return &cc
}

func apiBase(raw string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return "", fmt.Errorf("base url: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return "", fmt.Errorf("base url %q: want http(s)://host[:port]", raw)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("base url %q: must not have a query or fragment", raw)
	}
	p := strings.TrimRight(u.EscapedPath(), "/")
	if !strings.HasSuffix(p, "/api/v1") {
		p += "/api/v1"
	}
	return u.Scheme + "://" + u.Host + p, nil
}

// path joins escaped segments under the API base. Every segment must be
// non-empty; dot segments are escaped so that they cannot climb the path.
func (c *Client) path(segs ...string) (string, error) {
	if c.baseErr != nil {
		return "", c.baseErr
	}
	var b strings.Builder
	b.WriteString(c.base)
	for _, s := range segs {
		if s == "" {
			return "", rempart.Errorf(rempart.EINVALID, "An empty path segment in %s.", strings.Join(segs, "/"))
		}
		b.WriteByte('/')
		if s == "." || s == ".." {
			b.WriteString(strings.ReplaceAll(s, ".", "%2E"))
		} else {
			b.WriteString(url.PathEscape(s))
		}
	}
	return b.String(), nil
}

// request describes one call.
type request struct {
	method      string
	segs        []string
	query       url.Values
	body        []byte // nil: no body
	stream      io.Reader
	length      int64       // of stream; 0: unknown (sent chunked)
	trailer     http.Header // sent after stream
	contentType string
	accept      string // default: JSON or a problem
	header      http.Header
	bearer      string // overrides the API key when set
	want        int    // expected status
}

// do sends req and returns the response with an open body when its status is
// the expected one; any other status becomes an *Error (body read and
// closed).
func (c *Client) do(ctx context.Context, req request) (*http.Response, error) {
	u, err := c.path(req.segs...)
	if err != nil {
		return nil, err
	}
	if len(req.query) > 0 {
		u += "?" + req.query.Encode()
	}
	var body io.Reader
	if req.body != nil {
		body = bytes.NewReader(req.body)
	} else if req.stream != nil {
		body = req.stream
	}
	hr, err := http.NewRequestWithContext(ctx, req.method, u, body)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", req.method, u, err)
	}
	if req.stream != nil {
		hr.ContentLength = req.length
		if req.length <= 0 {
			hr.ContentLength = -1
		}
		hr.Trailer = req.trailer
	}
	for k, vs := range req.header {
		hr.Header[k] = vs
	}
	if req.body != nil || req.stream != nil {
		ct := req.contentType
		if ct == "" {
			ct = "application/json"
		}
		hr.Header.Set("Content-Type", ct)
	}
	accept := req.accept
	if accept == "" {
		accept = "application/json, application/problem+json"
	}
	hr.Header.Set("Accept", accept)
	if c.userAgent != "" {
		hr.Header.Set("User-Agent", c.userAgent)
	}
	if tok := req.bearer; tok != "" {
		hr.Header.Set("Authorization", "Bearer "+tok)
	} else if c.apiKey != "" {
		hr.Header.Set("Authorization", "Bearer "+c.apiKey)
	}
	resp, err := c.hc.Do(hr)
	if err != nil {
		return nil, err // already names the method and URL
	}
	if resp.StatusCode != req.want {
		defer closeBody(resp)
		return nil, responseError(resp)
	}
	return resp, nil
}

// call sends req and decodes a JSON answer into out (if not nil).
func (c *Client) call(ctx context.Context, req request, out any) error {
	resp, err := c.do(ctx, req)
	if err != nil {
		return err
	}
	defer closeBody(resp)
	if out == nil {
		return nil
	}
	b, err := readBounded(resp.Body)
	if err != nil {
		return fmt.Errorf("%s %s: %w", req.method, resp.Request.URL.Path, err)
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("%s %s: decode response: %w", req.method, resp.Request.URL.Path, err)
	}
	return nil
}

// readBounded reads a whole body of at most MaxResponseBytes.
func readBounded(r io.Reader) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, MaxResponseBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read response: %w", err)
	}
	if len(b) > MaxResponseBytes {
		return nil, fmt.Errorf("response larger than %d bytes", MaxResponseBytes)
	}
	return b, nil
}

// closeBody drains a little of what is left, so that the connection can be
// reused, and closes the body.
func closeBody(resp *http.Response) {
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
}

// jsonBody encodes v as a request body. []byte and json.RawMessage are sent
// as they are.
func jsonBody(v any) ([]byte, error) {
	switch b := v.(type) {
	case json.RawMessage:
		if b == nil {
			return nil, rempart.Errorf(rempart.EINVALID, "The body is empty; a JSON object is expected.")
		}
		return b, nil
	case []byte:
		if b == nil {
			return nil, rempart.Errorf(rempart.EINVALID, "The body is empty; a JSON object is expected.")
		}
		return b, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode body: %w", err)
	}
	return b, nil
}

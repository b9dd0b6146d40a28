package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/rempart/rempart"
)

// readBody reads the whole (bounded) body after checking its media type.
func readBody(r *http.Request, mediaTypes ...string) ([]byte, error) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	ok := false
	for _, want := range mediaTypes {
		ok = ok || (err == nil && mt == want)
	}
	if !ok {
		return nil, rempart.Errorf(rempart.EUNSUPPORTED, "Content-Type must be %s.", strings.Join(mediaTypes, " or "))
	}
	b, err := io.ReadAll(r.Body)
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return nil, rempart.Errorf(rempart.ETOOLARGE, "The request body is larger than %d bytes.", mbe.Limit)
	} else if err != nil {
		return nil, rempart.Errorf(rempart.EINVALID, "The request body could not be read.")
	}
	return b, nil
}

// decodeJSON decodes a control-plane body strictly: one JSON object of the
// expected shape, no unknown fields, nothing after it.
func decodeJSON(r *http.Request, v any) error {
	b, err := readBody(r, "application/json")
	if err != nil {
		return err
	}
	return decodeStrict(b, v)
}

func decodeStrict(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &se):
			return rempart.Errorf(rempart.EINVALID, "The body is not valid JSON (at byte %d).", se.Offset)
		case errors.As(err, &te):
			return rempart.Errorf(rempart.EINVALID, "Field %q must be of type %s.", te.Field, te.Type)
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			return rempart.Errorf(rempart.EINVALID, "Unknown field %s.", strings.TrimPrefix(err.Error(), "json: unknown field "))
		case errors.Is(err, io.EOF):
			return rempart.Errorf(rempart.EINVALID, "The body is empty; a JSON object is expected.")
		default:
			return rempart.Errorf(rempart.EINVALID, "The body is not valid JSON.")
		}
	}
	if dec.More() {
		return rempart.Errorf(rempart.EINVALID, "The body holds data after the JSON object.")
	}
	if _, err := dec.Token(); err != io.EOF {
		return rempart.Errorf(rempart.EINVALID, "The body holds data after the JSON object.")
	}
	return nil
}

// ifMatch parses an If-Match header holding one strong ETag ("<version>");
// it returns 0 when the header is absent or "*".
func ifMatch(r *http.Request) (int64, error) {
	h := strings.TrimSpace(r.Header.Get("If-Match"))
	if h == "" || h == "*" {
		return 0, nil
	}
	v, err := strconv.ParseInt(strings.Trim(h, `"`), 10, 64)
	if err != nil || v < 1 || len(h) < 3 || h[0] != '"' || h[len(h)-1] != '"' {
		return 0, rempart.Errorf(rempart.EINVALID, `If-Match must be one ETag as returned by the server, like "3".`)
	}
	return v, nil
}

func etag(version int64) string { return `"` + strconv.FormatInt(version, 10) + `"` }

// queryInt parses an optional non-negative integer query parameter.
func queryInt(r *http.Request, name string, def uint64) (uint64, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.ParseUint(v, 10, 63)
	if err != nil {
		return 0, rempart.Errorf(rempart.EINVALID, "Query parameter %s must be a non-negative integer.", name)
	}
	return n, nil
}

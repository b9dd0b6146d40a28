package backup

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
)

// The plaintext of a backup is a sequence of frames: a type byte, the
// payload's length as a uvarint, the payload. Tables come first, each as a
// header, its rows and an end frame with the row count and a SHA-256 of the
// row payloads; then objects (attachments), each as a header, data chunks and
// an end frame with its SHA-256; then the end of the backup.
const (
	frameTable     = 'T' // JSON tableHeader
	frameRow       = 'R' // encoded values, in the header's column order
	frameTableEnd  = 'E' // JSON tableEnd
	frameObject    = 'O' // JSON objectHeader
	frameData      = 'D' // a chunk of the object's bytes
	frameObjectEnd = 'F' // JSON objectEnd
	frameEnd       = 'Z' // JSON backupEnd
)

// maxFrame bounds a frame's payload: a row is at most a record (16 MiB at
// the largest configurable size) plus its columns.
const maxFrame = 32 << 20

// chunkSize is the size of an object's data frames.
const chunkSize = 1 << 20

type tableHeader struct {
	Name    string   `json:"name"`
	Columns []string `json:"columns"`
}

type tableEnd struct {
	Rows   int64  `json:"rows"`
	SHA256 string `json:"sha256"`
}

type objectHeader struct {
	Key  string `json:"key"`
	Size int64  `json:"size"`
}

type objectEnd struct {
	SHA256 string `json:"sha256"`
}

type backupEnd struct {
	Tables  int   `json:"tables"`
	Objects int64 `json:"objects"`
}

// frameWriter writes frames.
type frameWriter struct {
	w   *bufio.Writer
	buf [binary.MaxVarintLen64 + 1]byte
}

func newFrameWriter(w io.Writer) *frameWriter {
	return &frameWriter{w: bufio.NewWriterSize(w, 256<<10)}
}

func (f *frameWriter) frame(typ byte, payload []byte) error {
	f.buf[0] = typ
	n := binary.PutUvarint(f.buf[1:], uint64(len(payload)))
	if _, err := f.w.Write(f.buf[:1+n]); err != nil {
		return err
	}
	_, err := f.w.Write(payload)
	return err
}

func (f *frameWriter) flush() error { return f.w.Flush() }

// frameReader reads frames.
type frameReader struct {
	r   *bufio.Reader
	buf []byte
}

func newFrameReader(r io.Reader) *frameReader {
	return &frameReader{r: bufio.NewReaderSize(r, 256<<10)}
}

// errFormat reports a backup whose plaintext does not parse: it was written
// by something else, or damaged in a way its encryption did not catch.
var errFormat = errors.New("backup: malformed contents")

// errNoEnd reports data that stops cleanly at a frame boundary without an
// end frame (it wraps errFormat): after the end frame, it is what a
// well-formed backup answers.
var errNoEnd = fmt.Errorf("%w: it ends without its end frame", errFormat)

// next returns the next frame; the payload is valid until the next call.
func (f *frameReader) next() (byte, []byte, error) {
	typ, err := f.r.ReadByte()
	if err == io.EOF {
		return 0, nil, errNoEnd
	} else if err != nil {
		return 0, nil, err
	}
	n, err := binary.ReadUvarint(f.r)
	if err != nil || n > maxFrame {
		return 0, nil, fmt.Errorf("%w: bad frame length", errFormat)
	}
	if cap(f.buf) < int(n) {
		f.buf = make([]byte, n)
	}
	f.buf = f.buf[:n]
	if _, err := io.ReadFull(f.r, f.buf); err != nil {
		return 0, nil, fmt.Errorf("%w: truncated frame", errFormat)
	}
	return typ, f.buf, nil
}

// Values of a row are encoded as a tag byte and the value: the types that
// database/sql drivers return, so that a row read from SQLite is written to
// PostgreSQL unchanged and the reverse.
const (
	valNull   = 0
	valInt    = 1 // zigzag varint
	valText   = 2 // uvarint length, UTF-8 bytes
	valBytes  = 3 // uvarint length, bytes
	valFloat  = 4 // 8 bytes, IEEE 754 big endian
	valBool   = 5 // 1 byte
	valBlobNl = 6 // an empty, non-null byte string
)

func appendValue(b []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return append(b, valNull), nil
	case int64:
		return binary.AppendVarint(append(b, valInt), x), nil
	case string:
		b = binary.AppendUvarint(append(b, valText), uint64(len(x)))
		return append(b, x...), nil
	case []byte:
		if len(x) == 0 {
			return append(b, valBlobNl), nil
		}
		b = binary.AppendUvarint(append(b, valBytes), uint64(len(x)))
		return append(b, x...), nil
	case float64:
		return binary.BigEndian.AppendUint64(append(b, valFloat), math.Float64bits(x)), nil
	case bool:
		if x {
			return append(b, valBool, 1), nil
		}
		return append(b, valBool, 0), nil
	}
	return nil, fmt.Errorf("backup: cannot encode a %T", v)
}

// decodeRow decodes n values.
func decodeRow(b []byte, n int) ([]any, error) {
	out := make([]any, n)
	for i := range out {
		if len(b) == 0 {
			return nil, fmt.Errorf("%w: a row has too few values", errFormat)
		}
		tag := b[0]
		b = b[1:]
		switch tag {
		case valNull:
		case valInt:
			v, k := binary.Varint(b)
			if k <= 0 {
				return nil, fmt.Errorf("%w: bad integer", errFormat)
			}
			out[i], b = v, b[k:]
		case valText, valBytes:
			l, k := binary.Uvarint(b)
			if k <= 0 || l > uint64(len(b)-k) {
				return nil, fmt.Errorf("%w: bad length", errFormat)
			}
			val := b[k : k+int(l)]
			if tag == valText {
				out[i] = string(val)
			} else {
				out[i] = append([]byte(nil), val...)
			}
			b = b[k+int(l):]
		case valFloat:
			if len(b) < 8 {
				return nil, fmt.Errorf("%w: bad float", errFormat)
			}
			out[i], b = math.Float64frombits(binary.BigEndian.Uint64(b)), b[8:]
		case valBool:
			if len(b) < 1 {
				return nil, fmt.Errorf("%w: bad boolean", errFormat)
			}
			out[i], b = b[0] == 1, b[1:]
		case valBlobNl:
			out[i] = []byte{}
		default:
			return nil, fmt.Errorf("%w: unknown value tag %d", errFormat, tag)
		}
	}
	if len(b) != 0 {
		return nil, fmt.Errorf("%w: a row has too many values", errFormat)
	}
	return out, nil
}

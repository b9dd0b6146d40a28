package audit

import (
	"bufio"
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"math"
	"slices"
	"strings"

	"github.com/rempart/rempart"
)

// Report is the outcome of Verify.
type Report struct {
	Entries     uint64 // entry lines read
	Checkpoints int    // checkpoints read whose signature verified
	// VerifiedSize is the largest checkpoint size up to which every entry
	// is proven: the checkpoint's root matched and no entry before it was
	// altered. Entries after it are not vouched for.
	VerifiedSize uint64
	OK           bool
	// FirstBadIndex is the exact index of the first altered entry when its
	// recorded leaf hash pinpoints it, and -1 otherwise.
	FirstBadIndex int64
	// BadRangeFrom..BadRangeTo (To exclusive, both 0 if unknown) bound the
	// tampering when only its position is known: a checkpoint root mismatch,
	// missing or reordered entries, a malformed entry line.
	BadRangeFrom, BadRangeTo uint64
	Problem                  string // human-readable; empty when OK
}

const (
	maxLine       = 1 << 20 // longest line Verify reads
	progressEvery = 100_000 // entries between progress calls
	chunkLeaves   = 1 << 15 // leaf hashes per chunk kept for the root replay
)

var leafPrefix = []byte{0}

// finding is a problem that stops verification.
type finding struct {
	from, to uint64 // the entries it concerns, [from, to); to == 0 if unknown
	msg      string
}

func (f *finding) at() uint64 {
	if f.to == 0 {
		return math.MaxUint64
	}
	return f.from
}

type verifier struct {
	key      string
	progress func(uint64)
	h        hash.Hash
	rec      [hashSize]byte // scratch: the line's recorded leaf hash
	sum      [hashSize]byte // scratch: the recomputed one
	entries  uint64
	leaves   [][]byte // recorded leaf hashes, chunkLeaves per chunk
	cps      []rempart.Checkpoint
	verified []uint64 // sizes of the checkpoints whose root matched, ascending
	leafBad  int64    // first entry whose body does not match its leaf hash, or -1
	leafLine int
}

// Verify checks a whole export offline against the log's verifier key
// (AUD-2):
//   - every line parses, and entry indexes are 0, 1, 2, … without gaps;
//   - each entry's recomputed LeafHash equals its recorded leaf_hash, which
//     pinpoints an entry altered without its leaf hash;
//   - every checkpoint's signature verifies, and the root recomputed from the
//     recorded leaf hashes at its size equals the signed root, which locates
//     an alteration of entries and leaf hashes between the previous good
//     checkpoint and the first failing one;
//   - there is at least one checkpoint, and the export holds every entry the
//     largest one covers.
//
// The earliest problem found is reported; structural ones (a malformed line,
// a gap, a forged checkpoint) end the reading. progress, if not nil, is called
// every 100,000 entries. Verify keeps 32 bytes per entry in memory. Its error
// is only for I/O failures: tampering is described in the Report.
func Verify(r io.Reader, verifierKey string, progress func(entries uint64)) (Report, error) {
	v := &verifier{key: verifierKey, progress: progress, h: sha256.New(), leafBad: -1}
	stop, err := v.read(bufio.NewReaderSize(r, maxLine))
	if err != nil {
		rep := v.report(&finding{msg: err.Error()})
		rep.OK = false
		return rep, err
	}
	if stop == nil {
		stop = v.checkRoots()
	}
	return v.report(stop), nil
}

func (v *verifier) read(br *bufio.Reader) (*finding, error) {
	for n := 1; ; n++ {
		line, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			return &finding{msg: fmt.Sprintf("line %d is longer than %d bytes", n, maxLine)}, nil
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("read audit export: %w", err)
		}
		if len(line) == 0 { // end of input
			return nil, nil
		}
		line = bytes.TrimSuffix(bytes.TrimSuffix(line, []byte("\n")), []byte("\r"))
		if f := v.line(n, line); f != nil {
			return f, nil
		}
		if err != nil { // io.EOF after a last line without newline
			return nil, nil
		}
	}
}

func (v *verifier) line(n int, line []byte) *finding {
	switch {
	case bytes.HasPrefix(line, []byte(entryPrefix)):
		return v.entry(n, line)
	case bytes.HasPrefix(line, []byte(checkpointPrefix)):
		return v.checkpoint(n, line)
	case len(line) == 0:
		return nil
	}
	return &finding{msg: fmt.Sprintf("line %d is neither an entry nor a checkpoint", n)}
}

func (v *verifier) entry(n int, line []byte) *finding {
	pos := v.entries
	body, ok := parseEntryLine(line, &v.rec)
	if !ok {
		return &finding{from: pos, to: pos + 1, msg: fmt.Sprintf("line %d, entry %d: malformed entry line", n, pos)}
	}
	v.h.Reset()
	v.h.Write(leafPrefix)
	v.h.Write(body)
	if v.h.Sum(v.sum[:0]); v.sum != v.rec {
		// The body or its leaf hash was altered: the index inside is not to
		// be trusted, but the position is. Keep reading for the checkpoints,
		// which may locate an earlier alteration.
		if v.leafBad < 0 {
			v.leafBad, v.leafLine = int64(pos), n
		}
	} else if idx, ok := entryIndex(body); !ok {
		return &finding{from: pos, to: pos + 1, msg: fmt.Sprintf("line %d, entry %d: the entry has no index", n, pos)}
	} else if idx > pos {
		return &finding{from: pos, to: idx, msg: fmt.Sprintf("line %d: entry %d found where entry %d was expected: %s missing", n, idx, pos, span(pos, idx, "is", "are"))}
	} else if idx < pos {
		return &finding{from: idx, to: pos + 1, msg: fmt.Sprintf("line %d: entry %d found where entry %d was expected: entries are duplicated or out of order", n, idx, pos)}
	}
	v.keep(&v.rec)
	v.entries++
	if v.progress != nil && v.entries%progressEvery == 0 {
		v.progress(v.entries)
	}
	return nil
}

func (v *verifier) checkpoint(n int, line []byte) *finding {
	var c struct {
		Checkpoint *string `json:"checkpoint"`
	}
	if err := json.Unmarshal(line, &c); err != nil || c.Checkpoint == nil {
		return &finding{msg: fmt.Sprintf("line %d: malformed checkpoint line", n)}
	}
	cp, err := OpenCheckpoint(*c.Checkpoint, v.key)
	if err != nil {
		return &finding{msg: fmt.Sprintf("line %d: %s", n, strings.TrimSuffix(rempart.ErrorMessage(err), "."))}
	}
	v.cps = append(v.cps, cp)
	return nil
}

// keep stores the recorded leaf hash of entry v.entries.
func (v *verifier) keep(leaf *[hashSize]byte) {
	i := v.entries % chunkLeaves
	if i == 0 {
		v.leaves = append(v.leaves, make([]byte, chunkLeaves*hashSize))
	}
	copy(v.leaves[len(v.leaves)-1][i*hashSize:], leaf[:])
}

func (v *verifier) leaf(i uint64) []byte {
	o := (i % chunkLeaves) * hashSize
	return v.leaves[i/chunkLeaves][o : o+hashSize : o+hashSize]
}

// checkRoots replays the recorded leaf hashes once, checking each
// checkpoint's root at its size, smallest first.
func (v *verifier) checkRoots() *finding {
	if len(v.cps) == 0 {
		return &finding{msg: "the export holds no checkpoint: nothing vouches for its entries"}
	}
	slices.SortStableFunc(v.cps, func(a, b rempart.Checkpoint) int {
		return cmp.Compare(a.Size, b.Size)
	})
	tree := NewTree()
	var good uint64
	for _, cp := range v.cps {
		if cp.Size > v.entries {
			return &finding{from: v.entries, to: cp.Size, msg: fmt.Sprintf(
				"a checkpoint covers %d entries but the export holds only %d: %s missing", cp.Size, v.entries, span(v.entries, cp.Size, "is", "are"))}
		}
		for tree.Size() < cp.Size {
			if err := tree.append(v.leaf(tree.Size()), nil); err != nil {
				return &finding{msg: err.Error()}
			}
		}
		if !bytes.Equal(tree.Root(), cp.RootHash) {
			if cp.Size == good { // nothing to blame in the entries
				if good == 0 {
					return &finding{msg: "a checkpoint of size 0 signs a root other than the empty tree's"}
				}
				return &finding{msg: fmt.Sprintf("two checkpoints of size %d sign different roots: the log forked", cp.Size)}
			}
			return &finding{from: good, to: cp.Size, msg: fmt.Sprintf(
				"the entries do not match the signed checkpoint of size %d: tampering (altered leaf hashes, removed, added or reordered entries) lies in %s", cp.Size, span(good, cp.Size, "", ""))}
		}
		good = cp.Size
		v.verified = append(v.verified, good)
	}
	return nil
}

// report describes the earliest problem: the first altered entry, or stop.
func (v *verifier) report(stop *finding) Report {
	rep := Report{Entries: v.entries, Checkpoints: len(v.cps), FirstBadIndex: -1}
	limit := uint64(math.MaxUint64) // entries before it are proven
	var leafMsg string
	if v.leafBad >= 0 {
		limit = uint64(v.leafBad)
		leafMsg = fmt.Sprintf("line %d, entry %d: the entry does not match its recorded leaf hash: the entry or its leaf hash was altered", v.leafLine, v.leafBad)
	}
	for _, size := range v.verified {
		if size <= limit {
			rep.VerifiedSize = size
		}
	}
	switch {
	case stop == nil && v.leafBad < 0:
		rep.OK = true
	case v.leafBad >= 0 && (stop == nil || uint64(v.leafBad) < stop.at()):
		rep.FirstBadIndex = v.leafBad
		rep.Problem = leafMsg
		if stop != nil {
			rep.Problem += "; also " + stop.msg
		}
	default:
		rep.BadRangeFrom, rep.BadRangeTo = stop.from, stop.to
		rep.Problem = stop.msg
		if leafMsg != "" {
			rep.Problem += "; also " + leafMsg
		}
	}
	return rep
}

// span names entries [from, to) for a message, followed by the singular or
// plural verb.
func span(from, to uint64, one, many string) string {
	if to == from+1 {
		return strings.TrimSpace(fmt.Sprintf("entry %d %s", from, one))
	}
	return strings.TrimSpace(fmt.Sprintf("entries %d to %d %s", from, to-1, many))
}

package audit_test

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/rempart/rempart/audit"
)

func join(lines []string) string { return strings.Join(lines, "\n") + "\n" }

// retamper rewrites an entry line's body and gives it its true leaf hash, as
// someone with write access to the database would.
func retamper(t *testing.T, line, old, new string) string {
	t.Helper()
	body := strings.Replace(bodyOf(line), old, new, 1)
	if body == bodyOf(line) {
		t.Fatalf("retamper: %q not in %s", old, line)
	}
	return entryLine(t, body)
}

func edit(t *testing.T, line, old, new string) string {
	t.Helper()
	if !strings.Contains(line, old) {
		t.Fatalf("edit: %q not in %s", old, line)
	}
	return strings.Replace(line, old, new, 1)
}

func TestVerify(t *testing.T) {
	s, _ := newSigner(t, origin)
	forger, _ := newSigner(t, origin)
	base := exportLines(t, s, 3000, 1000) // 3000 entries, then checkpoints 1000, 2000, 3000
	cps := base[3000:]
	const denied = `"outcome":"denied"`
	const success = `"outcome":"success"`

	tests := []struct {
		name    string
		edit    func(ls []string) []string
		key     string // default s's
		want    audit.Report
		problem string // in want.Problem
	}{{
		name: "clean",
		edit: func(ls []string) []string { return ls },
		want: audit.Report{Entries: 3000, Checkpoints: 3, VerifiedSize: 3000, OK: true, FirstBadIndex: -1},
	}, {
		name: "checkpoints interleaved, CRLF, blank line, no final newline",
		edit: func(ls []string) []string {
			out := slices.Concat(ls[:1000], cps[:1], ls[1000:2000], cps[1:2], []string{""}, ls[2000:3000], cps[2:])
			out[0] += "\r"
			out[len(out)-1] += "\r\n" // join adds another: a blank last line
			return out
		},
		want: audit.Report{Entries: 3000, Checkpoints: 3, VerifiedSize: 3000, OK: true, FirstBadIndex: -1},
	}, {
		name: "altered body",
		edit: func(ls []string) []string { ls[1234] = edit(t, ls[1234], success, denied); return ls },
		want: audit.Report{Entries: 3000, Checkpoints: 3, VerifiedSize: 1000, FirstBadIndex: 1234}, problem: "entry 1234",
	}, {
		name: "altered index field",
		edit: func(ls []string) []string { ls[1234] = edit(t, ls[1234], `"index":1234,`, `"index":1235,`); return ls },
		want: audit.Report{Entries: 3000, Checkpoints: 3, VerifiedSize: 1000, FirstBadIndex: 1234}, problem: "entry 1234",
	}, {
		name:    "altered body and leaf hash",
		edit:    func(ls []string) []string { ls[1500] = retamper(t, ls[1500], success, denied); return ls },
		want:    audit.Report{Entries: 3000, Checkpoints: 3, VerifiedSize: 1000, FirstBadIndex: -1, BadRangeFrom: 1000, BadRangeTo: 2000},
		problem: "entries 1000 to 1999",
	}, {
		name:    "altered leaf hash only",
		edit:    func(ls []string) []string { ls[2500] = edit(t, ls[2500], ls[2500][14:18], "AAAA"); return ls },
		want:    audit.Report{Entries: 3000, Checkpoints: 3, VerifiedSize: 2000, FirstBadIndex: -1, BadRangeFrom: 2000, BadRangeTo: 3000},
		problem: "entry 2500",
	}, {
		name: "entry deleted, later ones renumbered and rehashed",
		edit: func(ls []string) []string {
			for i := 1500; i < 2999; i++ {
				ls[i] = retamper(t, ls[i+1], fmt.Sprintf(`"index":%d,`, i+1), fmt.Sprintf(`"index":%d,`, i))
			}
			return slices.Delete(ls, 2999, 3000)
		},
		want:    audit.Report{Entries: 2999, Checkpoints: 3, VerifiedSize: 1000, FirstBadIndex: -1, BadRangeFrom: 1000, BadRangeTo: 2000},
		problem: "checkpoint of size 2000",
	}, {
		name: "two alterations, the hashed one first",
		edit: func(ls []string) []string {
			ls[500] = retamper(t, ls[500], success, denied)
			ls[2500] = edit(t, ls[2500], success, denied)
			return ls
		},
		want:    audit.Report{Entries: 3000, Checkpoints: 3, FirstBadIndex: -1, BadRangeFrom: 0, BadRangeTo: 1000},
		problem: "also line 2501, entry 2500",
	}, {
		name: "two alterations, the unhashed one first",
		edit: func(ls []string) []string {
			ls[500] = edit(t, ls[500], success, denied)
			ls[2500] = retamper(t, ls[2500], success, denied)
			return ls
		},
		want:    audit.Report{Entries: 3000, Checkpoints: 3, FirstBadIndex: 500},
		problem: "entries 2000 to 2999",
	}, {
		name: "missing entry",
		edit: func(ls []string) []string { return slices.Delete(ls, 700, 701) },
		want: audit.Report{Entries: 700, FirstBadIndex: -1, BadRangeFrom: 700, BadRangeTo: 701}, problem: "entry 700 is missing",
	}, {
		name: "missing entries",
		edit: func(ls []string) []string { return slices.Delete(ls, 700, 705) },
		want: audit.Report{Entries: 700, FirstBadIndex: -1, BadRangeFrom: 700, BadRangeTo: 705}, problem: "entries 700 to 704 are missing",
	}, {
		name: "duplicated entry",
		edit: func(ls []string) []string { return slices.Insert(ls, 701, ls[700]) },
		want: audit.Report{Entries: 701, FirstBadIndex: -1, BadRangeFrom: 700, BadRangeTo: 702}, problem: "duplicated or out of order",
	}, {
		name: "swapped entries",
		edit: func(ls []string) []string { ls[10], ls[11] = ls[11], ls[10]; return ls },
		want: audit.Report{Entries: 10, FirstBadIndex: -1, BadRangeFrom: 10, BadRangeTo: 11}, problem: "entry 11 found where entry 10",
	}, {
		name:    "truncated entries",
		edit:    func(ls []string) []string { return slices.Delete(ls, 2500, 3000) },
		want:    audit.Report{Entries: 2500, Checkpoints: 3, VerifiedSize: 2000, FirstBadIndex: -1, BadRangeFrom: 2500, BadRangeTo: 3000},
		problem: "entries 2500 to 2999 are missing",
	}, {
		name: "file cut inside a line",
		edit: func(ls []string) []string { return append(ls[:1800], ls[1800][:100]) },
		want: audit.Report{Entries: 1800, FirstBadIndex: -1, BadRangeFrom: 1800, BadRangeTo: 1801}, problem: "malformed entry line",
	}, {
		name: "checkpoints removed",
		edit: func(ls []string) []string { return ls[:3000] },
		want: audit.Report{Entries: 3000, FirstBadIndex: -1}, problem: "no checkpoint",
	}, {
		name: "empty",
		edit: func([]string) []string { return nil },
		want: audit.Report{FirstBadIndex: -1}, problem: "no checkpoint",
	}, {
		name: "wrong verifier key",
		edit: func(ls []string) []string { return ls },
		key:  forger.VerifierKey(),
		want: audit.Report{Entries: 3000, FirstBadIndex: -1}, problem: "line 3001: Checkpoint signature does not verify",
	}, {
		name: "forged checkpoint",
		edit: func(ls []string) []string {
			cp, _ := forger.Sign(3000, make([]byte, 32))
			return append(ls, checkpointLine(t, cp.Note))
		},
		want: audit.Report{Entries: 3000, Checkpoints: 3, FirstBadIndex: -1}, problem: "line 3004: Checkpoint signature does not verify",
	}, {
		name: "checkpoint root edited",
		edit: func(ls []string) []string { ls[3001] = edit(t, ls[3001], `\n2000\n`, `\n2000\nA`); return ls },
		want: audit.Report{Entries: 3000, Checkpoints: 1, FirstBadIndex: -1}, problem: "line 3002: Checkpoint signature",
	}, {
		name: "forked checkpoint",
		edit: func(ls []string) []string {
			cp, _ := s.Sign(2000, make([]byte, 32))
			return append(ls, checkpointLine(t, cp.Note))
		},
		want: audit.Report{Entries: 3000, Checkpoints: 4, VerifiedSize: 2000, FirstBadIndex: -1}, problem: "the log forked",
	}, {
		name: "checkpoint of size 0 with a wrong root",
		edit: func(ls []string) []string {
			cp, _ := s.Sign(0, make([]byte, 32))
			return append(ls, checkpointLine(t, cp.Note))
		},
		want: audit.Report{Entries: 3000, Checkpoints: 4, FirstBadIndex: -1}, problem: "size 0",
	}, {
		name: "garbage line",
		edit: func(ls []string) []string { return slices.Insert(ls, 100, "hello") },
		want: audit.Report{Entries: 100, FirstBadIndex: -1}, problem: "line 101 is neither",
	}, {
		name: "malformed checkpoint line",
		edit: func(ls []string) []string { return append(ls, `{"checkpoint":42}`) },
		want: audit.Report{Entries: 3000, Checkpoints: 3, FirstBadIndex: -1}, problem: "line 3004: malformed checkpoint",
	}, {
		name: "leaf hash of 33 bytes",
		edit: func(ls []string) []string { ls[5] = edit(t, ls[5], ls[5][14:58], strings.Repeat("A", 44)); return ls },
		want: audit.Report{Entries: 5, FirstBadIndex: -1, BadRangeFrom: 5, BadRangeTo: 6}, problem: "line 6, entry 5: malformed",
	}, {
		name: "entry without index",
		edit: func(ls []string) []string { ls[5] = retamper(t, ls[5], `"index":5,`, ``); return ls },
		want: audit.Report{Entries: 5, FirstBadIndex: -1, BadRangeFrom: 5, BadRangeTo: 6}, problem: "entry 5: the entry has no index",
	}, {
		name: "line over 1 MiB",
		edit: func(ls []string) []string { return slices.Insert(ls, 3, strings.Repeat("x", 1<<20+1)) },
		want: audit.Report{Entries: 3, FirstBadIndex: -1}, problem: "line 4 is longer",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key := tt.key
			if key == "" {
				key = s.VerifierKey()
			}
			input := join(tt.edit(slices.Clone(base)))
			if tt.name == "empty" {
				input = ""
			}
			got, err := audit.Verify(strings.NewReader(input), key, nil)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if diff := cmp.Diff(tt.want, got, cmpopts.IgnoreFields(audit.Report{}, "Problem")); diff != "" {
				t.Errorf("Verify (-want +got):\n%s\nProblem: %s", diff, got.Problem)
			}
			if got.OK != (got.Problem == "") || !strings.Contains(got.Problem, tt.problem) {
				t.Errorf("Problem: got %q, want it to contain %q", got.Problem, tt.problem)
			}
		})
	}
}

func TestVerifyProgress(t *testing.T) {
	s, _ := newSigner(t, origin)
	var b bytes.Buffer
	tree := audit.NewTree()
	for i := range 250_000 {
		body := fmt.Appendf(nil, `{"index":%d,"action":"a"}`, i)
		leaf := audit.LeafHash(body)
		audit.WriteEntryLine(&b, leaf, body)
		growTree(t, tree, [][]byte{leaf}, nil)
	}
	cp, err := s.Sign(tree.Size(), tree.Root())
	if err != nil {
		t.Fatal(err)
	}
	audit.WriteCheckpointLine(&b, cp.Note)
	var calls []uint64
	rep, err := audit.Verify(&b, s.VerifierKey(), func(n uint64) { calls = append(calls, n) })
	if err != nil || !rep.OK {
		t.Fatalf("Verify: got %+v, %v; want OK", rep, err)
	}
	if diff := cmp.Diff([]uint64{100_000, 200_000}, calls); diff != "" {
		t.Errorf("progress calls (-want +got):\n%s", diff)
	}
}

func TestVerifyReadError(t *testing.T) {
	s, _ := newSigner(t, origin)
	errDisk := errors.New("disk on fire")
	r := iotest.TimeoutReader(strings.NewReader(join(exportLines(t, s, 10, 5))))
	r = iotest.DataErrReader(r)
	rep, err := audit.Verify(r, s.VerifierKey(), nil)
	if err == nil || rep.OK {
		t.Errorf("Verify with a failing reader: got %+v, %v; want not OK and an error", rep, err)
	}
	rep, err = audit.Verify(iotest.ErrReader(errDisk), s.VerifierKey(), nil)
	if !errors.Is(err, errDisk) || rep.OK {
		t.Errorf("Verify with a failing reader: got %+v, %v; want not OK and %v", rep, err, errDisk)
	}
}

func FuzzVerify(f *testing.F) {
	s, _ := newSigner(f, origin)
	clean := join(exportLines(f, s, 5, 2))
	f.Add([]byte(clean))
	f.Add([]byte(clean[:len(clean)/2]))
	f.Add([]byte(`{"leaf_hash":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA","entry":{"index":0}}`))
	f.Add([]byte(`{"leaf_hash":"","entry":}` + "\n" + `{"checkpoint":"x"}`))
	f.Add([]byte(`{"leaf_hash":"bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=","entry":{"index":18446744073709551616,}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		rep, err := audit.Verify(bytes.NewReader(b), s.VerifierKey(), nil)
		if err != nil {
			t.Fatalf("Verify of a byte slice: got error %v, want none", err)
		}
		if rep.OK != (rep.Problem == "") {
			t.Fatalf("got OK %v with problem %q", rep.OK, rep.Problem)
		}
		if rep.OK && (rep.Checkpoints == 0 || rep.VerifiedSize > rep.Entries || rep.FirstBadIndex != -1) {
			t.Fatalf("got %+v, an OK report that does not add up", rep)
		}
		if rep.BadRangeTo < rep.BadRangeFrom {
			t.Fatalf("got range %d..%d", rep.BadRangeFrom, rep.BadRangeTo)
		}
	})
}

package audit_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/audit"
)

// entryFor is a realistic entry of index i.
func entryFor(i int) rempart.AuditEntry {
	return rempart.AuditEntry{Index: uint64(i), Time: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Millisecond),
		TenantID: "ten_5x3kq9w2mzr8c4vh7tjn6bpe0", PrincipalID: "sa_8d2fk4m9q1wz7xv3c6hn5rtb0", CredentialID: "key_2mf7q9kx4w8z1c6v3hn5rtb0",
		Action: "record.read", Resource: fmt.Sprintf("tenants/ten_5x3kq9w2mzr8c4vh7tjn6bpe0/collections/calls/records/rec_%08d", i),
		Outcome: rempart.OutcomeSuccess, IP: "192.0.2.44", UserAgent: "rempart-go/1.0", RequestID: fmt.Sprintf("req_%012d", i)}
}

// writeExport writes n entries, then a checkpoint every `every` entries and
// one at n, as the server's export does.
func writeExport(t testing.TB, w io.Writer, s *audit.Signer, n, every int) {
	t.Helper()
	tree := audit.NewTree()
	var notes []string
	for i := range n {
		body, err := audit.Encode(entryFor(i))
		if err != nil {
			t.Fatal(err)
		}
		leaf := audit.LeafHash(body)
		if err := audit.WriteEntryLine(w, leaf, body); err != nil {
			t.Fatal(err)
		}
		growTree(t, tree, [][]byte{leaf}, nil)
		if (i+1)%every == 0 || i == n-1 {
			cp, err := s.Sign(tree.Size(), tree.Root())
			if err != nil {
				t.Fatal(err)
			}
			notes = append(notes, cp.Note)
		}
	}
	for _, n := range notes {
		if err := audit.WriteCheckpointLine(w, n); err != nil {
			t.Fatal(err)
		}
	}
}

// exportLines is writeExport's output split into lines, without newlines.
func exportLines(t testing.TB, s *audit.Signer, n, every int) []string {
	t.Helper()
	var b bytes.Buffer
	writeExport(t, &b, s, n, every)
	return strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
}

// entryLine is the export line of body with its true leaf hash.
func entryLine(t testing.TB, body string) string {
	t.Helper()
	var b bytes.Buffer
	if err := audit.WriteEntryLine(&b, audit.LeafHash([]byte(body)), []byte(body)); err != nil {
		t.Fatal(err)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// checkpointLine is the export line of a signed note.
func checkpointLine(t testing.TB, note string) string {
	t.Helper()
	var b bytes.Buffer
	if err := audit.WriteCheckpointLine(&b, note); err != nil {
		t.Fatal(err)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// bodyOf is the entry bytes of an entry line.
func bodyOf(line string) string {
	return line[len(`{"leaf_hash":"`)+44+len(`","entry":`) : len(line)-1]
}

func TestWriteEntryLine(t *testing.T) {
	body := []byte(`{"index":0,"action":"a"}`)
	leaf := make([]byte, 32)
	leaf[31] = 0xff
	var b bytes.Buffer
	if err := audit.WriteEntryLine(&b, leaf, body); err != nil {
		t.Fatal(err)
	}
	want := `{"leaf_hash":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAP8=","entry":{"index":0,"action":"a"}}` + "\n"
	if got := b.String(); got != want {
		t.Errorf("WriteEntryLine: got %q, want %q", got, want)
	}
	var parsed struct {
		LeafHash []byte          `json:"leaf_hash"`
		Entry    json.RawMessage `json:"entry"`
	}
	if err := json.Unmarshal(b.Bytes(), &parsed); err != nil || !bytes.Equal(parsed.LeafHash, leaf) || string(parsed.Entry) != string(body) {
		t.Errorf("entry line as JSON: got %x %s, %v; want %x %s", parsed.LeafHash, parsed.Entry, err, leaf, body)
	}
}

func TestWriteCheckpointLine(t *testing.T) {
	s, _ := newSigner(t, origin)
	cp, err := s.Sign(3, refRoot(refLeaves(3)))
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := audit.WriteCheckpointLine(&b, cp.Note); err != nil {
		t.Fatal(err)
	}
	line := b.String()
	if !strings.HasPrefix(line, `{"checkpoint":"`+origin+`\n3\n`) || !strings.HasSuffix(line, `\n"}`+"\n") || strings.Count(line, "\n") != 1 {
		t.Errorf("WriteCheckpointLine: got %q, want one line {\"checkpoint\":\"<note>\"}", line)
	}
	var parsed struct{ Checkpoint string }
	if err := json.Unmarshal(b.Bytes(), &parsed); err != nil || parsed.Checkpoint != cp.Note {
		t.Errorf("checkpoint line as JSON: got %q, %v; want %q", parsed.Checkpoint, err, cp.Note)
	}
}

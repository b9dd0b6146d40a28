package totp

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func testURI(t *testing.T) string {
	t.Helper()
	uri, err := KeyURI("Rempart Example & Co", "alice+mfa@example.com", rfcSecret)
	if err != nil {
		t.Fatal(err)
	}
	return uri
}

func encodeQR(t *testing.T, text string) *QR {
	t.Helper()
	q, err := EncodeQR(text)
	if err != nil {
		t.Fatalf("EncodeQR: %v", err)
	}
	return q
}

// The SVG holds only an svg, a rect and a path, with presentation
// attributes: nothing that runs, loads or links.
func TestSVGIsInert(t *testing.T) {
	svg := encodeQR(t, testURI(t)).SVG()
	allowed := map[string]map[string]bool{
		"svg":  {"xmlns": true, "viewBox": true, "width": true, "height": true, "shape-rendering": true},
		"rect": {"width": true, "height": true, "fill": true},
		"path": {"fill": true, "d": true},
	}
	dec := xml.NewDecoder(bytes.NewReader(svg))
	seen := map[string]int{}
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("SVG is not well-formed XML: %v", err)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			attrs, ok := allowed[tok.Name.Local]
			if !ok {
				t.Fatalf("element <%s>: want only svg, rect and path", tok.Name.Local)
			}
			seen[tok.Name.Local]++
			for _, a := range tok.Attr {
				if !attrs[a.Name.Local] || a.Name.Space != "" && a.Name.Local != "xmlns" {
					t.Errorf("<%s %s:%s>: attribute not allowed", tok.Name.Local, a.Name.Space, a.Name.Local)
				}
			}
		case xml.ProcInst, xml.Directive:
			t.Errorf("SVG holds %T %v; want none", tok, tok)
		case xml.CharData:
			if strings.TrimSpace(string(tok)) != "" {
				t.Errorf("SVG holds text %q; want none", tok)
			}
		}
	}
	if seen["svg"] != 1 || seen["rect"] != 1 || seen["path"] != 1 {
		t.Errorf("elements: got %v, want one each of svg, rect and path", seen)
	}
}

// Drawing the SVG's path back onto a grid gives exactly the code's modules.
func TestSVGMatchesModules(t *testing.T) {
	q := encodeQR(t, testURI(t))
	svg := string(q.SVG())
	i := strings.Index(svg, ` d="`)
	j := strings.LastIndex(svg, `"/>`)
	if i < 0 || j < i {
		t.Fatalf("no path data in %s", svg)
	}
	n := q.Size() + 2*quietZone
	grid := make([][]bool, n)
	for y := range grid {
		grid[y] = make([]bool, n)
	}
	for _, seg := range strings.Split(svg[i+4:j], "z") {
		if seg == "" {
			continue
		}
		var x, y, w, w2 int
		if _, err := fmt.Sscanf(seg, "M%d %dh%dv1h-%d", &x, &y, &w, &w2); err != nil || w != w2 {
			t.Fatalf("segment %q: %v", seg, err)
		}
		for k := x; k < x+w; k++ {
			if grid[y][k] {
				t.Fatalf("module (%d, %d) drawn twice", k, y)
			}
			grid[y][k] = true
		}
	}
	for y := 0; y < n; y++ {
		for x := 0; x < n; x++ {
			want := q.code.Black(x-quietZone, y-quietZone)
			if grid[y][x] != want {
				t.Fatalf("module (%d, %d): got black=%v, want %v", x, y, grid[y][x], want)
			}
		}
	}
}

func TestEncodeQRTooLong(t *testing.T) {
	if _, err := EncodeQR(strings.Repeat("x", 5000)); err == nil {
		t.Error("EncodeQR of 5000 bytes: got nil error, want one")
	}
}

// zbarimg (Debian's zbar-tools) is a QR decoder we did not write: it must
// read the exact key URI from the PNG, and from the SVG once rsvg-convert
// (librsvg2-bin) has rasterised it.
func TestQRDecodesWithZbar(t *testing.T) {
	zbarimg := needTool(t, "zbarimg", "zbar-tools")
	dir := t.TempDir()
	uri := testURI(t)
	q := encodeQR(t, uri)

	pngPath := filepath.Join(dir, "code.png")
	if err := os.WriteFile(pngPath, q.PNG(4), 0o600); err != nil {
		t.Fatal(err)
	}
	if got := zbar(t, zbarimg, pngPath); got != uri {
		t.Errorf("PNG decodes as\n%q\nwant\n%q", got, uri)
	}

	rsvg := needTool(t, "rsvg-convert", "librsvg2-bin")
	svgPath := filepath.Join(dir, "code.svg")
	if err := os.WriteFile(svgPath, q.SVG(), 0o600); err != nil {
		t.Fatal(err)
	}
	rendered := filepath.Join(dir, "svg.png")
	if out, err := exec.Command(rsvg, "-o", rendered, svgPath).CombinedOutput(); err != nil {
		t.Fatalf("rsvg-convert: %v: %s", err, out)
	}
	if got := zbar(t, zbarimg, rendered); got != uri {
		t.Errorf("SVG decodes as\n%q\nwant\n%q", got, uri)
	}
}

func zbar(t *testing.T, zbarimg, path string) string {
	t.Helper()
	cmd := exec.Command(zbarimg, "--quiet", "--raw", "-Sdisable", "-Sqrcode.enable", path)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("zbarimg %s: %v: %s", filepath.Base(path), err, stderr.String())
	}
	return strings.TrimSuffix(string(out), "\n")
}

// Command genblocklist turns the npm tarball of @zxcvbn-ts/language-common
// into the password blocklist embedded by package password: lowercased,
// deduplicated, sorted bytewise, one entry per line, gzip-compressed, under a
// "#" header recording where the list came from.
//
// Usage (scripts/gen-password-blocklist does the npm pack):
//
//	go run ./identity/password/internal/genblocklist \
//	    -tarball zxcvbn-ts-language-common-4.1.3.tgz \
//	    -integrity sha512-... -out identity/password/blocklist.txt.gz
//
// -integrity is the registry's dist.integrity; the tarball must match it.
package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
)

const listPath = "package/src/passwords.json"

func main() {
	tarball := flag.String("tarball", "", "npm pack output (.tgz)")
	integrity := flag.String("integrity", "", "expected dist.integrity (sha512-…)")
	out := flag.String("out", "", "output file (.txt.gz)")
	flag.Parse()
	if err := run(*tarball, *integrity, *out); err != nil {
		fmt.Fprintln(os.Stderr, "genblocklist:", err)
		os.Exit(1)
	}
}

func run(tarball, want, out string) error {
	if tarball == "" || out == "" {
		return errors.New("-tarball and -out are required")
	}
	raw, err := os.ReadFile(tarball)
	if err != nil {
		return err
	}
	sum := sha512.Sum512(raw)
	got := "sha512-" + base64.StdEncoding.EncodeToString(sum[:])
	if want != "" && got != want {
		return fmt.Errorf("tarball integrity %s, want %s", got, want)
	}
	meta, words, err := readPackage(raw)
	if err != nil {
		return err
	}
	entries := normalize(words)
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression) // header has no name or time: reproducible
	fmt.Fprintf(zw, "# rempart password blocklist: common passwords, one per line\n")
	fmt.Fprintf(zw, "# package: %s@%s (%s)\n", meta.Name, meta.Version, listPath)
	fmt.Fprintf(zw, "# licence: %s\n", meta.License)
	fmt.Fprintf(zw, "# integrity: %s\n", got)
	fmt.Fprintf(zw, "# upstream: passwords seen more than 10 times in Mark Burnett's ten million passwords (xato.net), ranked and filtered by zxcvbn-ts data-scripts\n")
	fmt.Fprintf(zw, "# transform: lowercased, deduplicated, sorted bytewise (genblocklist)\n")
	fmt.Fprintf(zw, "# entries: %d\n", len(entries))
	for _, e := range entries {
		fmt.Fprintln(zw, e)
	}
	if err := zw.Close(); err != nil {
		return err
	}
	return os.WriteFile(out, buf.Bytes(), 0o644)
}

type packageJSON struct {
	Name, Version, License string
}

// readPackage returns package.json's fields and the password list.
func readPackage(tgz []byte) (packageJSON, []string, error) {
	var meta packageJSON
	var words []string
	zr, err := gzip.NewReader(bytes.NewReader(tgz))
	if err != nil {
		return meta, nil, fmt.Errorf("open tarball: %w", err)
	}
	tr := tar.NewReader(zr)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		} else if err != nil {
			return meta, nil, fmt.Errorf("read tarball: %w", err)
		}
		switch hdr.Name {
		case "package/package.json":
			err = json.NewDecoder(tr).Decode(&meta)
		case listPath:
			err = json.NewDecoder(tr).Decode(&words)
		}
		if err != nil {
			return meta, nil, fmt.Errorf("decode %s: %w", hdr.Name, err)
		}
	}
	if meta.Name == "" || meta.License == "" || len(words) == 0 {
		return meta, nil, fmt.Errorf("tarball lacks package.json fields or %s", listPath)
	}
	return meta, words, nil
}

// normalize lowercases, drops empty entries and ones that would break the
// line format, sorts and deduplicates.
func normalize(words []string) []string {
	out := make([]string, 0, len(words))
	for _, w := range words {
		w = strings.ToLower(strings.TrimSpace(w))
		if w == "" || strings.ContainsAny(w, "\r\n") || strings.HasPrefix(w, "#") {
			continue
		}
		out = append(out, w)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

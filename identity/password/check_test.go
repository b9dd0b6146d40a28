package password

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/rempart/rempart"
)

func rulesOf(vs []Violation) []Rule {
	var out []Rule
	for _, v := range vs {
		out = append(out, v.Rule)
	}
	return out
}

func testChecker(t *testing.T) *Checker {
	t.Helper()
	return &Checker{Policy: DefaultPolicy(), Hasher: fastHasher(t, 2, 8)}
}

func TestCheckReportsEveryRuleAtOnce(t *testing.T) {
	c := testChecker(t)
	vs, err := c.Check(context.Background(), "password", Account{}, nil)
	want := []Rule{RuleMinLength, RuleUpper, RuleDigit, RuleSpecial, RuleCommon}
	if diff := cmp.Diff(want, rulesOf(vs)); diff != "" {
		t.Errorf("rules (-want +got):\n%s", diff)
	}
	if rempart.ErrorCode(err) != rempart.EINVALID {
		t.Fatalf("err = %v, want EINVALID", err)
	}
	msg := rempart.ErrorMessage(err)
	for _, v := range vs {
		if !strings.Contains(msg, v.Message) {
			t.Errorf("message %q lacks %q", msg, v.Message)
		}
	}
}

func TestCheckRules(t *testing.T) {
	acct := Account{Email: "jean.dupont@example.com", Name: "Jean-Luc Picard"}
	for _, tc := range []struct {
		pw   string
		want []Rule
	}{
		{"Gl4cier-Otter-Hum", nil},
		{"Ünïcødé-Ötter-9", nil},
		{"Short1!a", []Rule{RuleMinLength}},
		{"GLACIER-OTTER-9", []Rule{RuleLower}},
		{"glacier-otter-9", []Rule{RuleUpper}},
		{"Glacier-Otter-X", []Rule{RuleDigit}},
		{"GlacierOtter9xx", []Rule{RuleSpecial}},
		{"Hello DUPONT 99!", []Rule{RulePersonal}},
		{"x-Jean.Dupont-9X", []Rule{RulePersonal}},
		{"Captain-PICARD-7", []Rule{RulePersonal}},
		{"Luc-is-fine-7X!", nil}, // 3-letter name parts are not looked for
		{"Password2024!", []Rule{RuleCommon}},
		{"Qwerty123456!", []Rule{RuleCommon}},
		{"Aa1!" + strings.Repeat("x", 253), []Rule{RuleMaxLength}},
		{"Bad\xffUtf8-Pass1", []Rule{RuleEncoding}},
	} {
		vs, err := testChecker(t).Check(context.Background(), tc.pw, acct, nil)
		if diff := cmp.Diff(tc.want, rulesOf(vs)); diff != "" {
			t.Errorf("Check(%q) rules (-want +got):\n%s", tc.pw, diff)
		}
		if (err != nil) != (len(tc.want) > 0) {
			t.Errorf("Check(%q) err = %v, want error iff rules broken", tc.pw, err)
		}
	}
}

func TestCheckHistory(t *testing.T) {
	c := testChecker(t)
	ctx := context.Background()
	var prev []string
	for _, pw := range []string{"Old-Pass-0", "Old-Pass-1", "Old-Pass-2", "Old-Pass-3", "Old-Pass-4", "Old-Pass-5"} {
		enc, err := c.Hasher.Hash(ctx, pw+"aA")
		if err != nil {
			t.Fatal(err)
		}
		prev = append([]string{enc}, prev...) // newest first
	}
	vs, _ := c.Check(ctx, "Old-Pass-5aA", Account{}, prev)
	if diff := cmp.Diff([]Rule{RuleReused}, rulesOf(vs)); diff != "" {
		t.Errorf("newest password: rules (-want +got):\n%s", diff)
	}
	if vs, _ := c.Check(ctx, "Old-Pass-0aA", Account{}, prev); len(vs) != 0 {
		t.Errorf("6th-newest password with History 5: rules %v, want none", rulesOf(vs))
	}
	c.Policy.History = 6
	if vs, _ := c.Check(ctx, "Old-Pass-0aA", Account{}, prev); len(rulesOf(vs)) != 1 {
		t.Errorf("6th-newest password with History 6: rules %v, want [reused]", rulesOf(vs))
	}
}

type fakeBreach struct {
	n   int
	err error
}

func (f fakeBreach) Breaches(context.Context, string) (int, error) { return f.n, f.err }

func TestCheckBreach(t *testing.T) {
	c := testChecker(t)
	c.Breach = fakeBreach{n: 3}
	vs, _ := c.Check(context.Background(), "Gl4cier-Otter-Hum", Account{}, nil)
	if diff := cmp.Diff([]Rule{RuleBreached}, rulesOf(vs)); diff != "" {
		t.Errorf("rules (-want +got):\n%s", diff)
	}
	down := rempart.Errorf(rempart.EUNAVAILABLE, "down")
	c.Breach = fakeBreach{err: down}
	if _, err := c.Check(context.Background(), "Gl4cier-Otter-Hum", Account{}, nil); !errors.Is(err, down) {
		t.Errorf("breach service down: err = %v, want it passed through (fail closed)", err)
	}
	vs, err := c.Check(context.Background(), "short", Account{}, nil)
	if rempart.ErrorCode(err) != rempart.EINVALID || len(vs) == 0 {
		t.Errorf("breach down but rules broken: err = %v, want EINVALID with the violations", err)
	}
}

package totp

import (
	"testing"
	"time"

	"github.com/rempart/rempart"
)

// now is a fixed instant in the middle of its step.
var now = atStep(58910768) // 2026-01-02T03:04:15Z

func TestVerifyCurrentStep(t *testing.T) {
	v := newVerifier(t, now, DefaultSkew)
	step, err := v.Verify(rfcSecret, Code(rfcSecret, now), 0)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if want := Step(now); step != want {
		t.Errorf("step: got %d, want %d", step, want)
	}
}

func TestVerifySkew(t *testing.T) {
	cur := Step(now)
	tests := []struct {
		skew, offset int
		ok           bool
	}{
		{0, 0, true}, {0, -1, false}, {0, 1, false},
		{1, -1, true}, {1, 1, true}, {1, -2, false}, {1, 2, false},
		{2, -2, true}, {2, 2, true}, {2, -3, false}, {2, 3, false},
	}
	for _, tt := range tests {
		v := newVerifier(t, now, tt.skew)
		s := cur + int64(tt.offset)
		step, err := v.Verify(rfcSecret, hotp(rfcSecret, uint64(s), Digits), 0)
		if tt.ok {
			if err != nil || step != s {
				t.Errorf("skew %d, offset %+d: got (%d, %v), want (%d, nil)", tt.skew, tt.offset, step, err, s)
			}
			continue
		}
		if err != ErrWrongCode {
			t.Errorf("skew %d, offset %+d: got (%d, %v), want ErrWrongCode", tt.skew, tt.offset, step, err)
		}
	}
}

func TestNewVerifierRejectsSkew(t *testing.T) {
	for _, skew := range []int{-1, MaxSkew + 1, 10} {
		_, err := NewVerifier(fixedClock{now}, skew)
		wantCode(t, err, rempart.EINVALID)
	}
}

func TestVerifyReplay(t *testing.T) {
	v := newVerifier(t, now, DefaultSkew)
	code := Code(rfcSecret, now)
	step, err := v.Verify(rfcSecret, code, 0)
	if err != nil {
		t.Fatalf("first use: %v", err)
	}
	// The same code again, still inside its window.
	_, err = v.Verify(rfcSecret, code, step)
	wantErr(t, err, ErrReplayed)

	// The previous step's code is still inside the skew window, but older
	// than the step just accepted.
	prev := hotp(rfcSecret, uint64(step-1), Digits)
	_, err = v.Verify(rfcSecret, prev, step)
	wantErr(t, err, ErrReplayed)

	// The next step's code moves forward.
	next := hotp(rfcSecret, uint64(step+1), Digits)
	got, err := v.Verify(rfcSecret, next, step)
	if err != nil || got != step+1 {
		t.Errorf("next step: got (%d, %v), want (%d, nil)", got, err, step+1)
	}
	// And once it is accepted, the current one is refused too.
	_, err = v.Verify(rfcSecret, code, step+1)
	wantErr(t, err, ErrReplayed)
}

// Both refusals look the same to a client.
func TestVerifyRefusalsLookAlike(t *testing.T) {
	if ErrReplayed.Code != ErrWrongCode.Code || ErrReplayed.Message != ErrWrongCode.Message {
		t.Errorf("got %v and %v, want the same code and message", ErrReplayed, ErrWrongCode)
	}
	if ErrReplayed.Code != rempart.EUNAUTHORIZED {
		t.Errorf("code: got %s, want %s", ErrReplayed.Code, rempart.EUNAUTHORIZED)
	}
}

// With the RFC seed, steps 56188870 and 56188871 share the code 617002. When
// both are in the window the later step is recorded, so the same digits are
// not accepted again in the next step.
func TestVerifyCollidingSteps(t *testing.T) {
	const s = 56188870
	code := hotp(rfcSecret, s, Digits)
	if next := hotp(rfcSecret, s+1, Digits); next != code || code != "617002" {
		t.Fatalf("premise: codes of steps %d and %d are %s and %s, want both 617002", s, s+1, code, next)
	}
	v := newVerifier(t, atStep(s), DefaultSkew)
	step, err := v.Verify(rfcSecret, code, 0)
	if err != nil || step != s+1 {
		t.Fatalf("got (%d, %v), want (%d, nil)", step, err, s+1)
	}
	// A step later, the same digits are refused.
	v = newVerifier(t, atStep(s+1), DefaultSkew)
	_, err = v.Verify(rfcSecret, code, step)
	wantErr(t, err, ErrReplayed)
	// Had only step s been recorded, step s+1 would still take them.
	if got, err := v.Verify(rfcSecret, code, s); err != nil || got != s+1 {
		t.Errorf("after step %d: got (%d, %v), want (%d, nil)", s, got, err, s+1)
	}
}

func TestVerifyWrongCode(t *testing.T) {
	v := newVerifier(t, now, MaxSkew)
	good := Code(rfcSecret, now)
	wrong := []byte(good)
	wrong[5] = '0' + (wrong[5]-'0'+1)%10
	_, err := v.Verify(rfcSecret, string(wrong), 0)
	wantErr(t, err, ErrWrongCode)
	// The right code under another secret.
	_, err = v.Verify([]byte("another secret, 20 b"), good, 0)
	wantErr(t, err, ErrWrongCode)
}

func TestVerifyFarOffTime(t *testing.T) {
	code := Code(rfcSecret, now)
	for _, d := range []time.Duration{
		-3 * Period, 3 * Period, -time.Hour, time.Hour, -24 * time.Hour, 365 * 24 * time.Hour,
	} {
		v := newVerifier(t, now.Add(d), MaxSkew)
		if _, err := v.Verify(rfcSecret, code, 0); err != ErrWrongCode {
			t.Errorf("clock off by %v: got %v, want ErrWrongCode", d, err)
		}
	}
	// A clock before the epoch matches nothing.
	v := newVerifier(t, time.Unix(-3600, 0), MaxSkew)
	if _, err := v.Verify(rfcSecret, hotp(rfcSecret, 0, Digits), 0); err != ErrWrongCode {
		t.Errorf("before the epoch: got %v, want ErrWrongCode", err)
	}
}

func TestVerifyInput(t *testing.T) {
	v := newVerifier(t, now, DefaultSkew)
	code := Code(rfcSecret, now)
	spaced := []string{
		code[:3] + " " + code[3:],
		" " + code + "\t",
		code[:2] + " " + code[2:4] + " " + code[4:],
		code[:3] + "\u00a0" + code[3:], // no-break space, as pasted from a web page
	}
	for _, in := range spaced {
		if _, err := v.Verify(rfcSecret, in, 0); err != nil {
			t.Errorf("Verify(%q): got %v, want nil", in, err)
		}
	}
	invalid := []struct{ name, in string }{
		{"empty", ""},
		{"spaces only", "      "},
		{"five digits", code[:5]},
		{"seven digits", code + "0"},
		{"eight digits", "12345678"},
		{"letter", code[:5] + "a"},
		{"dash", code[:3] + "-" + code[3:]},
		{"sign", "+" + code[1:]},
		{"full-width digits", "１２３４５６"},
		{"arabic-indic digits", "١٢٣٤٥٦"},
		{"long", code + string(make([]byte, 100))},
	}
	for _, tt := range invalid {
		t.Run(tt.name, func(t *testing.T) {
			_, err := v.Verify(rfcSecret, tt.in, 0)
			wantCode(t, err, rempart.EINVALID)
		})
	}
}

func TestVerifyInvalidMessages(t *testing.T) {
	v := newVerifier(t, now, DefaultSkew)
	_, err := v.Verify(rfcSecret, "12a456", 0)
	if got, want := rempart.ErrorMessage(err), "The code must contain only digits."; got != want {
		t.Errorf("non-digit: got %q, want %q", got, want)
	}
	_, err = v.Verify(rfcSecret, "12345", 0)
	if got, want := rempart.ErrorMessage(err), "The code must be 6 digits."; got != want {
		t.Errorf("short: got %q, want %q", got, want)
	}
}

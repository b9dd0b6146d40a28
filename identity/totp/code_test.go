package totp

import (
	"testing"
	"time"
)

// RFC 4226 Appendix D: HOTP values for counters 0 to 9.
func TestHOTPRFC4226(t *testing.T) {
	want := []string{"755224", "287082", "359152", "969429", "338314",
		"254676", "287922", "162583", "399871", "520489"}
	for c, w := range want {
		if got := hotp(rfcSecret, uint64(c), 6); got != w {
			t.Errorf("hotp(counter %d): got %s, want %s", c, got, w)
		}
	}
}

// RFC 6238 Appendix B, the SHA1 rows (8 digits). Code gives the last 6 of
// the same value.
func TestTOTPRFC6238(t *testing.T) {
	tests := []struct {
		unix int64
		step int64
		want string
	}{
		{59, 0x1, "94287082"},
		{1111111109, 0x23523EC, "07081804"},
		{1111111111, 0x23523ED, "14050471"},
		{1234567890, 0x273EF07, "89005924"},
		{2000000000, 0x3F940AA, "69279037"},
		{20000000000, 0x27BC86AA, "65353130"},
	}
	for _, tt := range tests {
		at := time.Unix(tt.unix, 0)
		if got := Step(at); got != tt.step {
			t.Errorf("Step(%d): got %#x, want %#x", tt.unix, got, tt.step)
		}
		if got := hotp(rfcSecret, uint64(Step(at)), 8); got != tt.want {
			t.Errorf("8-digit code at %d: got %s, want %s", tt.unix, got, tt.want)
		}
		if got, want := Code(rfcSecret, at), tt.want[2:]; got != want {
			t.Errorf("Code at %d: got %s, want %s", tt.unix, got, want)
		}
	}
}

func TestStepBoundaries(t *testing.T) {
	tests := []struct {
		unix int64
		want int64
	}{
		{0, 0}, {29, 0}, {30, 1}, {59, 1}, {60, 2}, {-1, -1}, {-30, -1}, {-31, -2},
	}
	for _, tt := range tests {
		if got := Step(time.Unix(tt.unix, 0)); got != tt.want {
			t.Errorf("Step(%d): got %d, want %d", tt.unix, got, tt.want)
		}
	}
}

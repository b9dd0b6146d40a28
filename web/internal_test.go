package web

import (
	"testing"
	"time"

	"github.com/rempart/rempart"
)

func TestLocalPath(t *testing.T) {
	for next, want := range map[string]bool{
		"/": true, "/tenants": true, "/audit?action=x&start=5": true, "/a/b#c": true,
		"": false, "//evil": false, `/\evil`: false, `\\evil`: false, "https://evil": false, "evil": false,
		"/\t/evil": false, "/a\r\nSet-Cookie: x": false, `/a\b`: false, "javascript:x": false,
	} {
		if got := localPath(next); got != want {
			t.Errorf("localPath(%q): got %v, want %v", next, got, want)
		}
	}
}

func TestRestoreChart(t *testing.T) {
	if c := restoreChart(nil); len(c.Points) != 0 || c.Line != "" {
		t.Fatalf("no tests: got %+v, want an empty chart", c)
	}
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	one := restoreChart([]rempart.RestoreTest{{StartedAt: at, DurationMilli: 800, Outcome: rempart.OutcomeSuccess}})
	if len(one.Points) != 1 || one.Points[0].X != "300.0" || one.Points[0].Y != "24.0" || one.MaxLabel != "800 ms" {
		t.Fatalf("one test: got %+v", one)
	}
	// Two tests at the same instant spread evenly rather than overlap.
	two := restoreChart([]rempart.RestoreTest{{StartedAt: at, DurationMilli: 0}, {StartedAt: at, DurationMilli: 1000}})
	if two.Points[0].X != "24.0" || two.Points[1].X != "576.0" || two.Points[0].Y != "24.0" || two.Points[1].Y != "136.0" || !two.Points[1].Failed {
		t.Fatalf("two tests: got %+v", two.Points)
	}
}

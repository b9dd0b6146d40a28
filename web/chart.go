package web

import (
	"slices"
	"strconv"

	"github.com/rempart/rempart"
)

// chart is a small line chart of restore-test durations over time, drawn as
// inline SVG by the template: no script, and no inline style (the CSP
// forbids it), only presentation attributes and classes from the
// stylesheet.
type chart struct {
	Width, Height int
	Left, Right   int // the plot area, inside the axis labels
	Top, Bottom   int
	LabelY        int    // the baseline of the date labels
	Line          string // the polyline's points
	Points        []chartPoint
	MaxLabel      string // the top of the y axis
	From, To      string // the first and last dates
}

type chartPoint struct {
	X, Y   string
	Failed bool
	Label  string // the point's tooltip and accessible text
}

const (
	chartW, chartH = 600, 160
	chartPad       = 24 // room for the axis labels
)

// restoreChart places the tests (newest first, as History returns them) by
// time on x and duration on y. It is empty without tests.
func restoreChart(tests []rempart.RestoreTest) chart {
	c := chart{Width: chartW, Height: chartH, Left: chartPad, Right: chartW - chartPad, Top: chartPad, Bottom: chartH - chartPad, LabelY: chartH - 6}
	if len(tests) == 0 {
		return c
	}
	ts := slices.Clone(tests)
	slices.Reverse(ts)
	first, last := ts[0].StartedAt, ts[len(ts)-1].StartedAt
	span := last.Sub(first).Seconds()
	var top int64 = 1
	for _, t := range ts {
		top = max(top, t.DurationMilli)
	}
	plotW, plotH := float64(chartW-2*chartPad), float64(chartH-2*chartPad)
	for i, t := range ts {
		x := float64(chartW) / 2
		if span > 0 {
			x = chartPad + plotW*t.StartedAt.Sub(first).Seconds()/span
		} else if len(ts) > 1 {
			x = chartPad + plotW*float64(i)/float64(len(ts)-1)
		}
		y := chartPad + plotH*(1-float64(t.DurationMilli)/float64(top))
		p := chartPoint{X: num(x), Y: num(y), Failed: t.Outcome != rempart.OutcomeSuccess,
			Label: t.StartedAt.UTC().Format("2006-01-02 15:04 UTC") + ": " + formatMillis(t.DurationMilli) + ", " + t.Outcome}
		c.Points = append(c.Points, p)
		if c.Line != "" {
			c.Line += " "
		}
		c.Line += p.X + "," + p.Y
	}
	c.MaxLabel = formatMillis(top)
	c.From, c.To = first.UTC().Format("2006-01-02"), last.UTC().Format("2006-01-02")
	return c
}

func num(f float64) string { return strconv.FormatFloat(f, 'f', 1, 64) }

// retentionChart is a bar per collection rule of a tenant: how many days a
// deleted record stays restorable, against a line at the default that
// governs the tenant's other collections. It is empty without rules.
type retentionChart struct {
	Width, Height int
	Left, Right   int // the bars' area, between the names and the figures
	Bars          []retentionBar
	DefaultX      string // the default's line
	Top, Bottom   int    // the line's ends
	LabelY        int    // the baseline of the line's label
	DefaultLabel  string
}

type retentionBar struct {
	Collection string
	Days       int
	Y, TextY   int
	Width      string
	Label      string // the collection, shortened to fit beside the bar
	EndX       string // where the figure is written
}

const (
	retentionRow   = 22
	retentionLeft  = 150
	retentionRight = chartW - 70
	retentionLabel = 20 // characters of a collection's name in the chart
)

func newRetentionChart(ret rempart.Retention) retentionChart {
	if len(ret.Rules) == 0 {
		return retentionChart{}
	}
	top := max(ret.Default.RestorableDays, 1)
	for _, r := range ret.Rules {
		top = max(top, r.RestorableDays)
	}
	plotW := float64(retentionRight - retentionLeft)
	x := func(days int) float64 { return plotW * float64(days) / float64(top) }
	c := retentionChart{Width: chartW, Left: retentionLeft, Right: retentionRight, Top: 4}
	for i, r := range ret.Rules {
		y := c.Top + 4 + i*retentionRow
		label := r.Collection
		if len(label) > retentionLabel {
			label = label[:retentionLabel-1] + "…"
		}
		c.Bars = append(c.Bars, retentionBar{Collection: r.Collection, Label: label, Days: r.RestorableDays, Y: y, TextY: y + 12,
			Width: num(x(r.RestorableDays)), EndX: num(retentionLeft + x(r.RestorableDays) + 6)})
	}
	c.Bottom = c.Top + 8 + len(ret.Rules)*retentionRow
	c.LabelY = c.Bottom + 14
	c.Height = c.LabelY + 6
	c.DefaultX = num(retentionLeft + x(ret.Default.RestorableDays))
	c.DefaultLabel = "default: " + strconv.Itoa(ret.Default.RestorableDays) + " days"
	return c
}

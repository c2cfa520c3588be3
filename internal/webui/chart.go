package webui

import (
	"fmt"
	"html"
	"html/template"
	"net/http"
	"strings"
	"time"

	"github.com/patchbay/patchbay"
)

// chartDays is how many days the charts cover.
const chartDays = 14

// charts holds a view's two pictures, drawn here as inline SVG so no chart
// library (and no script) is needed.
type charts struct {
	Outcomes template.HTML
	Latency  template.HTML
}

func (h *Handler) charts(r *http.Request, rc *reqCtx, f patchbay.DeliveryStatsFilter) (charts, error) {
	now := h.now().UTC()
	f.Since = now.Add(-(chartDays - 1) * 24 * time.Hour).Truncate(24 * time.Hour)
	f.Until = now.Add(time.Second)
	days, err := h.store.DailyDeliveries(r.Context(), rc.org, f)
	if err != nil {
		return charts{}, err
	}
	return charts{Outcomes: outcomeChart(days), Latency: latencyChart(days)}, nil
}

const (
	chartW, chartH           = 480, 200
	padL, padR, padT, padB   = 40, 10, 28, 28
	colorOK, colorBad, color = "#2da44e", "#cf222e", "#0969da"
)

// niceMax rounds a maximum up to 1, 2 or 5 times a power of ten.
func niceMax(v float64) float64 {
	if v <= 0 {
		return 1
	}
	p := 1.0
	for p*10 <= v {
		p *= 10
	}
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= v {
			return m * p
		}
	}
	return 10 * p
}

func svgOpen(b *strings.Builder, id, title, desc string) {
	fmt.Fprintf(b, `<svg class="chart" role="img" aria-labelledby="%[1]s-t %[1]s-d" viewBox="0 0 %d %d" xmlns="http://www.w3.org/2000/svg">`,
		id, chartW, chartH)
	fmt.Fprintf(b, `<title id="%s-t">%s</title><desc id="%s-d">%s</desc>`, id, html.EscapeString(title), id, html.EscapeString(desc))
	fmt.Fprintf(b, `<text x="%d" y="16" font-size="13" font-weight="600" fill="#1f2328">%s</text>`, padL, html.EscapeString(title))
}

func axes(b *strings.Builder, days []*patchbay.DeliveryDay, top float64, unit string) {
	x0, y0, y1 := padL, chartH-padB, padT
	fmt.Fprintf(b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#d1d9e0"/>`, x0, y0, chartW-padR, y0)
	fmt.Fprintf(b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#eaeef2"/>`, x0, y1, chartW-padR, y1)
	fmt.Fprintf(b, `<text x="%d" y="%d" font-size="10" text-anchor="end" fill="#59636e">%g%s</text>`, x0-4, y1+4, top, unit)
	fmt.Fprintf(b, `<text x="%d" y="%d" font-size="10" text-anchor="end" fill="#59636e">0</text>`, x0-4, y0+4)
	if len(days) > 0 {
		fmt.Fprintf(b, `<text x="%d" y="%d" font-size="10" fill="#59636e">%s</text>`, x0, chartH-8, days[0].Day.Format("Jan 2"))
		fmt.Fprintf(b, `<text x="%d" y="%d" font-size="10" text-anchor="end" fill="#59636e">%s</text>`, chartW-padR, chartH-8,
			days[len(days)-1].Day.Format("Jan 2"))
	}
}

// outcomeChart draws attempts per day as bars, succeeded below failed.
func outcomeChart(days []*patchbay.DeliveryDay) template.HTML {
	var b strings.Builder
	total, failed, peak := 0, 0, 0
	for _, d := range days {
		total += d.Succeeded + d.Failed
		failed += d.Failed
		peak = max(peak, d.Succeeded+d.Failed)
	}
	svgOpen(&b, "outcomes", fmt.Sprintf("Attempts per day, last %d days", len(days)),
		fmt.Sprintf("%d attempts, %d failed. Green: succeeded; red: failed.", total, failed))
	top := niceMax(float64(peak))
	axes(&b, days, top, "")
	if len(days) > 0 {
		slot := float64(chartW-padL-padR) / float64(len(days))
		scale := float64(chartH-padB-padT) / top
		for i, d := range days {
			x := float64(padL) + float64(i)*slot + slot*0.15
			w := slot * 0.7
			y := float64(chartH - padB)
			for _, part := range []struct {
				n     int
				color string
				what  string
			}{{d.Succeeded, colorOK, "succeeded"}, {d.Failed, colorBad, "failed"}} {
				if part.n == 0 {
					continue
				}
				hgt := float64(part.n) * scale
				y -= hgt
				fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s: %d %s</title></rect>`,
					x, y, w, hgt, part.color, d.Day.Format("Jan 2"), part.n, part.what)
			}
		}
	}
	if total == 0 {
		fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="12" text-anchor="middle" fill="#59636e">No attempts in this period</text>`,
			chartW/2, chartH/2)
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) //nolint:gosec // built here; every text is escaped
}

// latencyChart draws each day's average latency as a line.
func latencyChart(days []*patchbay.DeliveryDay) template.HTML {
	var b strings.Builder
	var peak time.Duration
	for _, d := range days {
		peak = max(peak, d.AvgLatency)
	}
	svgOpen(&b, "latency", "Average latency per day (ms)", fmt.Sprintf("Highest daily average: %d ms.", peak.Milliseconds()))
	top := niceMax(float64(peak.Milliseconds()))
	axes(&b, days, top, "ms")
	var pts []string
	if len(days) > 0 {
		slot := float64(chartW-padL-padR) / float64(len(days))
		scale := float64(chartH-padB-padT) / top
		for i, d := range days {
			if d.Succeeded+d.Failed == 0 {
				continue
			}
			x := float64(padL) + float64(i)*slot + slot/2
			y := float64(chartH-padB) - float64(d.AvgLatency.Milliseconds())*scale
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", x, y))
			fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="3" fill="%s"><title>%s: %d ms average, %d ms max</title></circle>`,
				x, y, color, d.Day.Format("Jan 2"), d.AvgLatency.Milliseconds(), d.MaxLatency.Milliseconds())
		}
	}
	if len(pts) > 1 {
		fmt.Fprintf(&b, `<polyline points="%s" fill="none" stroke="%s" stroke-width="2"/>`, strings.Join(pts, " "), color)
	}
	if len(pts) == 0 {
		fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="12" text-anchor="middle" fill="#59636e">No attempts in this period</text>`,
			chartW/2, chartH/2)
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) //nolint:gosec // built here; every text is escaped
}

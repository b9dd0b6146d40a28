package totp

import (
	"fmt"
	"strings"

	"rsc.io/qr"

	"github.com/rempart/rempart"
)

// quietZone is the white border, in modules, that the QR standard requires
// around a code.
const quietZone = 4

// svgModule is the displayed size of one module in the SVG's width and
// height; the drawing scales, so this only sets the default size.
const svgModule = 6

// A QR is a key URI encoded as a QR code, ready to render.
type QR struct {
	code *qr.Code
}

// EncodeQR encodes text (a key URI) as a QR code at error-correction level M,
// the usual level for codes shown on a screen.
func EncodeQR(text string) (*QR, error) {
	c, err := qr.Encode(text, qr.M)
	if err != nil {
		return nil, rempart.Errorf(rempart.EINVALID, "The text does not fit in a QR code.")
	}
	return &QR{code: c}, nil
}

// Size returns the number of modules on a side, without the quiet zone.
func (q *QR) Size() int { return q.code.Size }

// SVG renders the code as a standalone SVG document: one white rect for the
// background and quiet zone, and one path of black modules, drawn as
// horizontal runs. It has no script, style, link or text, so it can be
// served as image/svg+xml under a strict Content-Security-Policy and shown
// with <img>; it reveals the secret, so serve it with Cache-Control:
// no-store.
func (q *QR) SVG() []byte {
	n := q.code.Size + 2*quietZone
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" width="%d" height="%d" shape-rendering="crispEdges">`,
		n, n, n*svgModule, n*svgModule)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="#fff"/>`, n, n)
	b.WriteString(`<path fill="#000" d="`)
	for y := 0; y < q.code.Size; y++ {
		for x := 0; x < q.code.Size; {
			if !q.code.Black(x, y) {
				x++
				continue
			}
			run := 1
			for x+run < q.code.Size && q.code.Black(x+run, y) {
				run++
			}
			fmt.Fprintf(&b, "M%d %dh%dv1h-%dz", x+quietZone, y+quietZone, run, run)
			x += run
		}
	}
	b.WriteString(`"/></svg>`)
	return []byte(b.String())
}

// PNG renders the code as a 1-bit PNG, scale pixels per module (1 to 32),
// with the quiet zone.
func (q *QR) PNG(scale int) []byte {
	scale = max(1, min(scale, 32))
	c := *q.code
	c.Scale = scale
	return c.PNG()
}

package ediproc

import (
	"io"

	"github.com/ordergate/ordergate/normalize/order"
)

// OrderLines writes canonical orders as lines of JSON (what `ordergate
// parse` prints) through one reused buffer, with order.AppendJSON:
// encoding/json's bytes, written field by field.
type OrderLines struct {
	W   io.Writer
	buf []byte
}

// Write writes o and a newline.
func (l *OrderLines) Write(o *order.Order) error {
	b, err := order.AppendJSON(l.buf[:0], o)
	if err != nil {
		return err
	}
	l.buf = append(b, '\n')
	_, err = l.W.Write(l.buf)
	return err
}

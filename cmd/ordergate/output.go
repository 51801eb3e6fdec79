package main

import (
	"encoding/json"
	"io"

	"github.com/ordergate/ordergate/normalize/order"
)

// writeJSONLine writes v as one line of JSON.
func writeJSONLine(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	b = append(b, '\n')
	_, err = w.Write(b)
	return err
}

// orderLines writes canonical orders as lines of JSON through one reused
// buffer (order.AppendJSON: encoding/json's bytes, written field by
// field).
type orderLines struct {
	w   io.Writer
	buf []byte
}

func (l *orderLines) write(o *order.Order) error {
	b, err := order.AppendJSON(l.buf[:0], o)
	if err != nil {
		return err
	}
	l.buf = append(b, '\n')
	_, err = l.w.Write(l.buf)
	return err
}
